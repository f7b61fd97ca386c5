import type { Naming } from '@flotilla/config';
import type { RpcService } from '@flotilla/contracts';
import type { Channel, Options } from 'amqplib';

/** Names of everything a service touches on the broker, already prefixed with the NAMESPACE. */
export interface TopologyNames {
  /** Durable topic exchange every event is published to; routing key = event type. */
  eventsExchange: string;
  /** Durable direct exchange dead letters go through; routing key = the dead-letter queue's name. */
  deadLetterExchange: string;
  /** `<serve>.rpc`, when the service serves RPC. */
  rpcQueue?: string;
  /** `<service>.events`: the service's own event queue, bound to the keys it subscribes to. */
  eventsQueue: string;
  /**
   * Failed events wait in one of these, then dead-letter back to `eventsQueue`: tier k
   * (`<service>.events.retry`, then `.retry.2x`, `.retry.4x`, `.retry.8x`) holds them for
   * 2^k retry delays. One queue per delay, because RabbitMQ expires messages only at a
   * queue's head: a long wait would hold up a short one behind it in a shared queue.
   */
  retryQueues: string[];
  /** `<service>.events.dlq`: events that failed every attempt. */
  deadLetterQueue: string;
}

/** What {@link declareTopology} declares beyond the two shared exchanges. */
export interface TopologySpec {
  service: string;
  /** Declare the service's RPC queue. */
  serve?: RpcService;
  /** Declare the service's event queues and bind the main one to these routing keys. */
  events?: { routingKeys: readonly string[]; retryDelayMs: number };
}

/** Retry tiers: an event's n-th retry waits 1, 2, 4, then 8 retry delays for every later one. */
export const RETRY_TIERS = 4;

/** The tier (0-based) of an event's `retry`-th retry (1-based). */
export function retryTier(retry: number): number {
  return Math.min(Math.max(Math.floor(retry), 1), RETRY_TIERS) - 1;
}

/** How long an event's `retry`-th retry (1-based) waits, with `baseMs` the service's retry delay. */
export function retryDelay(baseMs: number, retry: number): number {
  return baseMs * 2 ** retryTier(retry);
}

/** The names for a service; pure, so tests can compute what to delete. */
export function topologyNames(naming: Naming, service: string, serve?: RpcService): TopologyNames {
  const eventsQueue = naming.amqp(`${service}.events`);
  return {
    eventsExchange: naming.amqp('flotilla.events'),
    deadLetterExchange: naming.amqp('flotilla.dlx'),
    ...(serve ? { rpcQueue: naming.amqp(`${serve}.rpc`) } : {}),
    eventsQueue,
    retryQueues: Array.from({ length: RETRY_TIERS }, (_, tier) => (tier === 0 ? `${eventsQueue}.retry` : `${eventsQueue}.retry.${2 ** tier}x`)),
    deadLetterQueue: `${eventsQueue}.dlq`,
  };
}

/** Every queue and exchange name {@link declareTopology} may create for a service (for clean-up). */
export function topologyResources(naming: Naming, service: string, serve?: RpcService): { queues: string[]; exchanges: string[] } {
  const names = topologyNames(naming, service, serve);
  return {
    queues: [...(names.rpcQueue ? [names.rpcQueue] : []), names.eventsQueue, ...names.retryQueues, names.deadLetterQueue],
    exchanges: [names.eventsExchange, names.deadLetterExchange],
  };
}

/**
 * Declares (idempotently) the broker objects a service needs, on `channel`:
 * - exchanges `flotilla.events` (topic) and `flotilla.dlx` (direct), both durable;
 * - with `serve`: the durable RPC queue `<serve>.rpc`;
 * - with `events`: `<service>.events` (dead-lettering to `flotilla.dlx` → `.dlq`) bound to
 *   each routing key, the retry tiers `<service>.events.retry[.2x|.4x|.8x]` (TTL = 1, 2, 4
 *   and 8 retry delays, dead-lettering back to the main queue through the default
 *   exchange) and `<service>.events.dlq`.
 *
 * This is the only place queue arguments are written. RabbitMQ refuses
 * (`PRECONDITION_FAILED`, closing the channel) to redeclare a queue with other
 * arguments, so a change here needs a new queue name or the old queue deleted.
 * Bindings are only added, never removed: a key a service stops subscribing to
 * stays bound until the binding is deleted.
 */
export async function declareTopology(channel: Channel, naming: Naming, spec: TopologySpec): Promise<TopologyNames> {
  const names = topologyNames(naming, spec.service, spec.serve);
  await channel.assertExchange(names.eventsExchange, 'topic', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'direct', { durable: true });
  if (names.rpcQueue) await channel.assertQueue(names.rpcQueue, { durable: true });
  if (spec.events) {
    await channel.assertQueue(names.deadLetterQueue, { durable: true });
    await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, names.deadLetterQueue);
    await channel.assertQueue(names.eventsQueue, eventsQueueOptions(names));
    for (const [tier, queue] of names.retryQueues.entries()) {
      await channel.assertQueue(queue, {
        durable: true,
        messageTtl: spec.events.retryDelayMs * 2 ** tier,
        // '' is the default exchange: expired messages go straight back to the main queue only,
        // not to every subscriber of the topic as a republish to flotilla.events would.
        deadLetterExchange: '',
        deadLetterRoutingKey: names.eventsQueue,
      });
    }
    for (const key of new Set(spec.events.routingKeys)) {
      await channel.bindQueue(names.eventsQueue, names.eventsExchange, key);
    }
  }
  return names;
}

/** The arguments of a service's event queue: its rejected messages go to its dead-letter queue. */
function eventsQueueOptions(names: TopologyNames): Options.AssertQueue {
  return { durable: true, deadLetterExchange: names.deadLetterExchange, deadLetterRoutingKey: names.deadLetterQueue };
}

/**
 * Messages waiting in `service`'s event queue, declaring the queue as
 * {@link declareTopology} does when it does not exist yet (then 0). A passive check would
 * not do: RabbitMQ answers a missing queue with a channel error, which the channel
 * manager takes for a lost connection — every channel of the process is reopened and the
 * RPC replies in flight are lost.
 */
export async function eventsQueueDepth(channel: { assertQueue(queue: string, options?: Options.AssertQueue): Promise<{ messageCount: number }> }, naming: Naming, service: string): Promise<number> {
  const names = topologyNames(naming, service);
  return (await channel.assertQueue(names.eventsQueue, eventsQueueOptions(names))).messageCount;
}

/**
 * Every service of the platform, by the name it gives `RabbitModule.forRoot`. Any of
 * them may subscribe to events, and so own a dead-letter queue.
 */
export const PLATFORM_SERVICES = ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'] as const;

/** The dead-letter queue of each service's event queue, named as {@link declareTopology} names it. */
export function consumerDeadLetterQueues(naming: Naming, services: readonly string[] = PLATFORM_SERVICES): string[] {
  return services.map((service) => topologyNames(naming, service).deadLetterQueue);
}

/**
 * Declares the dead-letter exchange and the dead-letter queue of each service, bound as
 * {@link declareTopology} binds them (same arguments, so either may declare first). A
 * reader of every dead-letter queue uses it: reading a queue that does not exist closes
 * the channel, and a service's queue exists only once it subscribed to an event.
 */
export async function declareDeadLetterQueues(channel: Channel, naming: Naming, services: readonly string[] = PLATFORM_SERVICES): Promise<string[]> {
  const exchange = topologyNames(naming, services[0] ?? 'gateway').deadLetterExchange;
  await channel.assertExchange(exchange, 'direct', { durable: true });
  const queues = consumerDeadLetterQueues(naming, services);
  for (const queue of queues) {
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, queue);
  }
  return queues;
}
