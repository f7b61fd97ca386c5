/**
 * Names of shared resources, prefixed by the installation's NAMESPACE so that
 * several runs share one Postgres, Redis and RabbitMQ without colliding.
 */
export class Naming {
  constructor(readonly namespace: string) {}

  /** Postgres schema owned by a service, e.g. `votes` or `t1a2_votes`. */
  schema(owner: string): string {
    const base = owner.replace(/-/g, '_');
    return this.namespace ? `${this.namespace}_${base}` : base;
  }

  /** RabbitMQ queue or exchange name, e.g. `votes.rpc` or `t1a2.votes.rpc`. */
  amqp(name: string): string {
    return this.namespace ? `${this.namespace}.${name}` : name;
  }

  /** Redis key, e.g. `votes` or `t1a2:votes`. */
  key(name: string): string {
    return this.namespace ? `${this.namespace}:${name}` : name;
  }
}
