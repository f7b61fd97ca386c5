import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import { ProvisionerRpc, type RpcActor, type Store } from '@flotilla/contracts';
import { RabbitModule, RpcClient, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { deleteAmqp, deleteKeys, dropSchemas, freePort, ServiceProcess, testEnv, TEST_REDIS_URL, waitFor } from '@flotilla/testing';
import { resolveSimulatedOptions, SharedSimulatedCluster, sharedClusterKey, type SimulatedCluster } from '../src/drivers/simulated/index.js';

/**
 * Built provisioners run as processes (`services/provisioner/dist/main.js`, as in
 * production) on the shared simulated cluster, an RPC caller signed as the platform's
 * services are, and a reader of the cluster's state in Redis: the truth about the
 * cluster, independent of any provisioner.
 */
export class ProvisionerProcesses {
  readonly processes: ServiceProcess[] = [];
  private readonly callers = new Map<string, INestApplicationContext>();
  private readonly redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  private readonly namespaces = new Set<string>();
  private readonly clusters = new Set<string>();

  /** A provisioner of the installation `namespace` (its own schema, queues and keys), on the simulated cluster `clusterId`. */
  async start(namespace: string, clusterId: string, extra: Record<string, string> = {}, label?: string): Promise<ServiceProcess> {
    this.namespaces.add(namespace);
    this.clusters.add(clusterId);
    const env = testEnv(namespace, {
      CLUSTER_DRIVER: 'simulated',
      SIMULATED_CLUSTER_ID: clusterId,
      SIMULATED_POD_START_MS: '100',
      SIMULATED_POD_READY_MS: '100',
      RECONCILE_INTERVAL_MS: '500',
      ...extra,
    });
    const service = new ServiceProcess('provisioner', await freePort(), env, label ?? `provisioner-${namespace}#${this.processes.length + 1}`);
    this.processes.push(service);
    return service.start();
  }

  /** Calls the installation `namespace`'s provisioners over RPC, as the gateway does. */
  async call<T>(namespace: string, pattern: string, payload: unknown, actor: RpcActor): Promise<T> {
    let caller = this.callers.get(namespace);
    if (!caller) {
      const env = testEnv(namespace);
      @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
      class CallerModule {}
      caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
      this.callers.set(namespace, caller);
    }
    return caller.get(RpcClient).call<T>('provisioner', pattern, payload, { actor });
  }

  /** Waits until the store has `status` (read through the provisioner). */
  async until(namespace: string, storeId: string, actor: RpcActor, status: Store['status'], timeoutMs = 30_000): Promise<Store> {
    return waitFor(async () => {
      const store = await this.call<Store>(namespace, ProvisionerRpc.Get, { storeId }, actor);
      return store.status === status ? store : undefined;
    }, { what: `store ${storeId} to be ${status}`, timeoutMs });
  }

  /** Reads the simulated cluster `clusterId` from Redis as last written; this process moves no clock. */
  async cluster<T>(clusterId: string, inspect: (cluster: SimulatedCluster) => T): Promise<T> {
    const reader = new SharedSimulatedCluster(this.redis, resolveSimulatedOptions({}), { key: sharedClusterKey(clusterId) });
    return reader.read(inspect);
  }

  /** Closes the RPC callers only (for a test that runs its provisioner in process). */
  async closeCallers(): Promise<void> {
    await Promise.allSettled([...this.callers.values()].map((c) => c.close()));
    this.callers.clear();
    this.redis.disconnect();
  }

  /** Stops every process (SIGKILL: nothing of theirs should be needed), then removes every schema, queue and key used. */
  async cleanUp(): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.kill()));
    await Promise.allSettled([...this.callers.values()].map((c) => c.close()));
    for (const namespace of this.namespaces) {
      const naming = new Naming(namespace);
      const resources = [topologyResources(naming, 'provisioner', 'provisioner'), topologyResources(naming, 'test-caller')];
      await Promise.allSettled([
        dropSchemas(namespace),
        deleteKeys(namespace),
        deleteAmqp([...new Set(resources.flatMap((r) => r.queues))], [...new Set(resources.flatMap((r) => r.exchanges))]),
      ]);
    }
    await Promise.allSettled([...this.clusters].map((id) => deleteKeys(id)));
    this.redis.disconnect();
  }
}

/** Pods of the namespace that are ready, by name. */
export function readyPods(cluster: SimulatedCluster, namespace: string): string[] {
  return cluster.pods(namespace).filter((pod) => pod.ready).map((pod) => pod.name);
}
