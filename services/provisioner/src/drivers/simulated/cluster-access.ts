import type { SimulatedCluster } from './simulated-cluster.js';

/**
 * How the simulated driver reaches its cluster: one kept in this process (tests with a
 * manual clock), or the shared one in Redis that every replica sees. `read` and
 * `write` run a synchronous function over the cluster; with the shared cluster,
 * `write` may run it more than once (on a newer state) before it applies.
 */
export interface ClusterAccess {
  readonly isClosed: boolean;
  read<T>(inspect: (cluster: SimulatedCluster) => T): Promise<T>;
  write<T>(change: (cluster: SimulatedCluster) => T): Promise<T>;
  /** Deletes the namespace; resolves once it is gone. */
  deleteNamespace(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A cluster in this process: every call runs at once, on the one state. */
export class InProcessAccess implements ClusterAccess {
  constructor(readonly cluster: SimulatedCluster) {}

  get isClosed(): boolean {
    return this.cluster.isClosed;
  }

  async read<T>(inspect: (cluster: SimulatedCluster) => T): Promise<T> {
    return inspect(this.cluster);
  }

  async write<T>(change: (cluster: SimulatedCluster) => T): Promise<T> {
    return change(this.cluster);
  }

  deleteNamespace(name: string): Promise<void> {
    return this.cluster.deleteNamespace(name);
  }

  async close(): Promise<void> {
    this.cluster.close();
  }
}
