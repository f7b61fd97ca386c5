import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ProvisionerRpc, type RpcActor, type Store, type StoreEvent } from '@flotilla/contracts';
import { uniqueNamespace } from '@flotilla/testing';
import { ProvisionerProcesses } from './provisioner-processes.js';

const PASS_MS = 500;

interface NamespaceRecord {
  uid: string;
  createdAt: string;
  installation: string | undefined;
  phase: string;
}

/**
 * Two installations (their own database schemas, queues and keys, different
 * INSTALLATION_IDs) on one shared simulated cluster, each sweeping orphans with no
 * grace: over ten reconcile passes neither touches a namespace of the other, and
 * stores created while the passes run survive them. The cluster's state in Redis is
 * the independent truth the test compares.
 */
describe('two installations on one shared simulated cluster', () => {
  const clusterId = uniqueNamespace();
  const dev = uniqueNamespace();
  const prod = uniqueNamespace();
  const processes = new ProvisionerProcesses();
  const actors: Record<string, RpcActor> = {
    [dev]: { userId: randomUUID(), role: 'member', teamId: randomUUID() },
    [prod]: { userId: randomUUID(), role: 'member', teamId: randomUUID() },
  };

  afterAll(async () => {
    await processes.cleanUp();
  });

  const namespaces = (): Promise<Record<string, NamespaceRecord>> =>
    processes.cluster(clusterId, (cluster) =>
      Object.fromEntries(
        cluster.namespaceNames().map((name) => {
          const ns = cluster.namespace(name)!;
          return [name, { uid: ns.uid, createdAt: ns.createdAt, installation: ns.labels['flotilla.io/installation'], phase: ns.phase }];
        }),
      ),
    );

  const create = async (installation: string, name: string): Promise<Store> =>
    processes.call<Store>(installation, ProvisionerRpc.Create, { name, template: 'wordpress', replicas: 1 }, actors[installation]!);

  it('over ten reconcile passes neither touches the other\'s namespaces, and stores created meanwhile survive', async () => {
    // One namespace prefix for both (as a misconfigured pair would have): only the installation label tells their namespaces apart.
    const grace = { ORPHAN_NAMESPACE_GRACE_MS: '0', RECONCILE_INTERVAL_MS: String(PASS_MS), STORE_NAMESPACE_PREFIX: `store-${clusterId}` };
    await Promise.all([processes.start(dev, clusterId, grace), processes.start(prod, clusterId, grace)]);
    const first: Array<[string, Store]> = [];
    for (const [installation, names] of [[dev, ['shop', 'blog']], [prod, ['cafe', 'deli']]] as const) {
      for (const name of names) first.push([installation, await create(installation, name)]);
    }
    for (const [installation, store] of first) await processes.until(installation, store.id, actors[installation]!, 'ready');
    const before = await namespaces();
    expect(Object.values(before).map((ns) => ns.installation).sort()).toEqual([dev, dev, prod, prod].sort());

    // Ten passes of each; a store of each installation created in the middle of them.
    await new Promise((resolve) => setTimeout(resolve, 5 * PASS_MS));
    const middle: Array<[string, Store]> = [];
    for (const installation of [dev, prod]) middle.push([installation, await create(installation, `late-${installation}`)]);
    const seenLate = await namespaces();
    await new Promise((resolve) => setTimeout(resolve, 6 * PASS_MS));
    for (const [installation, store] of middle) await processes.until(installation, store.id, actors[installation]!, 'ready');

    const after = await namespaces();
    // Every namespace from before is the same one: same uid, same creation, same owner, not terminating.
    for (const [name, record] of Object.entries(before)) expect(after[name]).toEqual(record);
    // The stores created during the passes have their namespace, created once.
    for (const [, store] of middle) {
      expect(after[store.namespace]).toMatchObject({ phase: 'Active' });
      if (seenLate[store.namespace]) expect(after[store.namespace]!.uid).toBe(seenLate[store.namespace]!.uid);
    }
    expect(Object.keys(after).sort()).toEqual([...Object.keys(before), ...middle.map(([, store]) => store.namespace)].sort());
    // Nothing had to be repaired or reinstalled anywhere.
    for (const [installation, store] of [...first, ...middle]) {
      const events = await processes.call<{ items: StoreEvent[] }>(installation, ProvisionerRpc.Events, { storeId: store.id }, actors[installation]!);
      expect(events.items.filter((e) => e.type === 'repair' || e.type === 'failed')).toEqual([]);
      expect(events.items.filter((e) => e.type === 'provisioning')).toHaveLength(2);
    }
  });
});
