import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ProvisionerRpc, type RpcActor, type Store, type StoreEvent } from '@flotilla/contracts';
import { uniqueNamespace, waitFor } from '@flotilla/testing';
import { ProvisionerProcesses } from './provisioner-processes.js';

const ACTOR: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the cluster shows of a store that must not change while it runs untouched: its namespace and its pods. */
interface StoreFootprint {
  uid: string | undefined;
  pods: Array<{ name: string; ready: boolean; restarts: number; startedAt: string | null }>;
  created: number;
  deployments: Array<{ name: string; specReplicas: number }>;
}

/**
 * Provisioner processes on the shared simulated cluster: one killed with SIGKILL leaves
 * every store running (read from Redis by this test, not by a provisioner), and the one
 * started after it reinstalls nothing; two replicas running together operate each
 * store once.
 */
describe('provisioner replicas on the shared simulated cluster', () => {
  const processes = new ProvisionerProcesses();

  afterAll(async () => {
    await processes.cleanUp();
  });

  const footprint = (clusterId: string, namespace: string): Promise<StoreFootprint> =>
    processes.cluster(clusterId, (cluster) => ({
      uid: cluster.namespace(namespace)?.uid,
      pods: cluster.pods(namespace).map(({ name, ready, restarts, startedAt }) => ({ name, ready, restarts, startedAt })),
      created: cluster.events(namespace).filter((e) => e.reason === 'SuccessfulCreate').reduce((sum, e) => sum + e.count, 0),
      deployments: cluster.deployments(namespace).map(({ name, specReplicas }) => ({ name, specReplicas })),
    }));

  const storeEvents = async (ns: string, storeId: string): Promise<StoreEvent[]> =>
    (await processes.call<{ items: StoreEvent[] }>(ns, ProvisionerRpc.Events, { storeId }, ACTOR)).items;

  it('a provisioner killed with SIGKILL leaves every store running; the next one reinstalls nothing', async () => {
    const ns = uniqueNamespace();
    const first = await processes.start(ns, ns, { RECONCILE_INTERVAL_MS: '500' });
    const stores: Store[] = [];
    for (const [name, replicas] of [['alpha', 1], ['beta', 2], ['gamma', 3]] as const) {
      stores.push(await processes.call<Store>(ns, ProvisionerRpc.Create, { name, template: 'wordpress', replicas }, ACTOR));
    }
    for (const store of stores) await processes.until(ns, store.id, ACTOR, 'ready');
    // Checked healthy once (that check writes its own event), so every event from here on would be news.
    for (const store of stores) {
      await waitFor(async () => ((await processes.call<{ status: string }>(ns, ProvisionerRpc.Health, { storeId: store.id }, ACTOR)).status === 'up' ? true : undefined), {
        what: `store ${store.name} checked up`,
      });
    }
    const before = new Map<string, StoreFootprint>();
    for (const store of stores) before.set(store.id, await footprint(ns, store.namespace));
    const eventsBefore = new Map<string, StoreEvent[]>();
    for (const store of stores) eventsBefore.set(store.id, await storeEvents(ns, store.id));

    await first.kill();
    // No provisioner at all for longer than the clock lease: the cluster is exactly as it was, every pod ready.
    await sleep(4000);
    for (const store of stores) {
      const now = await footprint(ns, store.namespace);
      expect(now).toEqual(before.get(store.id));
      expect(now.pods.length).toBe(store.desired.replicas);
      expect(now.pods.every((pod) => pod.ready)).toBe(true);
    }

    await processes.start(ns, ns, { RECONCILE_INTERVAL_MS: '500' });
    // Several reconcile passes of the new process, with its clock moving the cluster again.
    await sleep(3000);
    for (const store of stores) {
      expect(await footprint(ns, store.namespace)).toEqual(before.get(store.id));
      const got = await processes.call<Store>(ns, ProvisionerRpc.Get, { storeId: store.id }, ACTOR);
      expect(got).toMatchObject({ status: 'ready', revision: 1 });
      // Not one store event since the kill: no provisioning, install or repair.
      expect(await storeEvents(ns, store.id)).toEqual(eventsBefore.get(store.id));
    }
    // The new process does move the cluster: a killed pod is replaced and ready again.
    const { killed } = await processes.call<{ killed: string[] }>(ns, ProvisionerRpc.Chaos, { storeId: stores[2]!.id, killPods: 1 }, { ...ACTOR, role: 'admin' });
    const [victim] = killed;
    expect(victim).toBeDefined();
    await waitFor(async () => {
      const pods = (await footprint(ns, stores[2]!.namespace)).pods;
      return pods.length === 3 && pods.every((pod) => pod.ready) && pods.every((pod) => pod.name !== victim) ? true : undefined;
    }, { what: 'the killed pod replaced by a ready one', timeoutMs: 15_000 });
  });

  it('two replicas creating 20 stores at once run each store\'s operation once', async () => {
    const ns = uniqueNamespace();
    await Promise.all([processes.start(ns, ns, { PROVISION_CONCURRENCY: '8' }, 'replica-1'), processes.start(ns, ns, { PROVISION_CONCURRENCY: '8' }, 'replica-2')]);
    const stores = await Promise.all(
      Array.from({ length: 20 }, (_, i) => processes.call<Store>(ns, ProvisionerRpc.Create, { name: `many-${i}`, template: 'wordpress', replicas: 1 + (i % 2) }, ACTOR)),
    );
    for (const store of stores) await processes.until(ns, store.id, ACTOR, 'ready', 60_000);
    await sleep(2000);
    for (const store of stores) {
      const events = await storeEvents(ns, store.id);
      // The create ran once: its two steps once each, and it became ready once.
      expect(events.filter((e) => e.type === 'provisioning').map((e) => e.message)).toEqual([
        `namespace ${store.namespace} with its quota, limits and network policies`,
        `installing wordpress ${store.desired.version} with ${store.desired.replicas} replica(s), revision 1`,
      ]);
      expect(events.filter((e) => e.type === 'ready')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'repair' || e.type === 'failed')).toEqual([]);
      // In the cluster: one namespace, one deployment, and exactly its replicas' pods ever created.
      const seen = await footprint(ns, store.namespace);
      expect(seen.deployments).toEqual([{ name: 'wordpress-r1', specReplicas: store.desired.replicas }]);
      expect(seen.created).toBe(store.desired.replicas);
      expect(seen.pods.filter((pod) => pod.ready)).toHaveLength(store.desired.replicas);
    }
    const namespaces = await processes.cluster(ns, (cluster) => cluster.namespaceNames());
    expect(namespaces.sort()).toEqual(stores.map((store) => store.namespace).sort());
  });
});
