import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { deleteKeys, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { DEFAULT_NAMESPACE_LIMITS, type StoreRef } from '../src/drivers/cluster-driver.js';
import { createSharedSimulatedDriver, resolveSimulatedOptions, SharedSimulatedCluster, sharedClusterKey, type SimulatedDriver } from '../src/drivers/simulated/index.js';
import { namespaceObjects } from '../src/drivers/simulated/simulated-objects.js';

/**
 * The shared simulated cluster against real Redis: several drivers (as several
 * provisioner processes would hold) on one cluster id see one cluster; the clock moves
 * while any of them lives, and a driver closed without any cleanup leaves every pod
 * running for the others.
 */
describe('shared simulated cluster', () => {
  const clusterId = uniqueNamespace();
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const open: SimulatedDriver[] = [];
  const fast = { podStartMs: 40, podReadyMs: 40, probeIntervalMs: 50, controllerIntervalMs: 100, namespaceTerminationMs: 100 };
  const driver = async (installationId = 'one', options = {}): Promise<SimulatedDriver> => {
    const created = await createSharedSimulatedDriver(redis, clusterId, { ...fast, ...options }, { installationId, namespacePrefix: `store-${installationId}` });
    open.push(created);
    return created;
  };
  const ref = (name: string, installationId = 'one'): StoreRef => ({ storeId: `id-${name}`, name, namespace: `store-${installationId}-${name}`, teamId: 'team', template: 'wordpress' });
  const release = (replicas: number) => ({ host: 'shop.stores.localhost', secrets: { DB_PASSWORD: 'x' }, revisions: [{ revision: 1, version: '6.6', replicas, weight: 100 }] });
  const readyPods = async (d: SimulatedDriver, store: StoreRef) => (await d.observe(store)).pods.filter((pod) => pod.ready);

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    await deleteKeys(clusterId);
    redis.disconnect();
  });

  it('one cluster for every driver: what one installs, the other observes, and the pods survive the installer closing', async () => {
    const first = await driver();
    const second = await driver();
    const shop = ref('shop');
    await first.ensureNamespace(shop, DEFAULT_NAMESPACE_LIMITS);
    await first.apply(shop, 'wordpress', release(2));
    const ready = await waitFor(async () => ((await readyPods(second, shop)).length === 2 ? await readyPods(second, shop) : undefined), { what: 'two ready pods seen by the other driver' });
    const before = await second.inspect(shop);

    await first.close();
    // Time still moves (the other driver takes the clock over), and nothing was restarted or replaced.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await second.inspect(shop);
    expect((await readyPods(second, shop)).map((pod) => [pod.name, pod.restarts, pod.startedAt])).toEqual(ready.map((pod) => [pod.name, pod.restarts, pod.startedAt]));
    expect(after?.namespace.uid).toBe(before?.namespace.uid);
    expect(after?.release).toEqual({ host: 'shop.stores.localhost', secretNames: ['DB_PASSWORD'] });
    expect(after?.events.filter((event) => event.reason === 'SuccessfulCreate')).toHaveLength(2);
  });

  it('keeps the clock moving when its holder dies without a word, from the stored state', async () => {
    const holder = await driver();
    const shop = ref('crash-shop');
    await holder.ensureNamespace(shop, DEFAULT_NAMESPACE_LIMITS);
    await holder.apply(shop, 'wordpress', release(2));
    await waitFor(async () => ((await readyPods(holder, shop)).length === 2 ? true : undefined), { what: 'two ready pods' });
    // A dead process: its loop stops, its lease is never given back.
    const lease = await redis.get(`${clusterId}:simulated-cluster:clock`);
    expect(lease).not.toBeNull();
    await (holder as unknown as { sharedCluster: { close(): Promise<void> } }).sharedCluster.close();
    await redis.set(`${clusterId}:simulated-cluster:clock`, lease!, 'PX', 1500);

    const successor = await driver();
    await successor.killPods(shop, 1);
    // The replacement pod gets ready only if some process moves the clock: the successor, once the dead lease lapses.
    await waitFor(async () => ((await readyPods(successor, shop)).length === 2 ? true : undefined), { what: 'the killed pod replaced and ready', timeoutMs: 10_000 });
  });

  it('applies concurrent changes from several drivers one after another, none lost', async () => {
    const drivers = await Promise.all([driver(), driver(), driver()]);
    const stores = Array.from({ length: 12 }, (_, i) => ref(`many-${i}`));
    await Promise.all(stores.map((store, i) => drivers[i % 3]!.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS).then(() => drivers[(i + 1) % 3]!.apply(store, 'wordpress', release(1)))));
    const names = (await drivers[0]!.listStoreNamespaces()).map((ns) => ns.name);
    for (const store of stores) expect(names).toContain(store.namespace);
    await waitFor(async () => {
      for (const store of stores) if ((await readyPods(drivers[2]!, store)).length !== 1) return undefined;
      return true;
    }, { what: 'every store ready', timeoutMs: 15_000 });
  });

  it('another installation on the same cluster cannot take a namespace, and a removal waits until it is gone', async () => {
    const dev = await driver('dev');
    const prod = await driver('prod');
    const shop = ref('mine', 'dev');
    await dev.ensureNamespace(shop, DEFAULT_NAMESPACE_LIMITS);
    expect((await prod.listStoreNamespaces()).map((ns) => ns.name)).not.toContain(shop.namespace);
    await expect(prod.remove({ ...shop })).rejects.toThrow();
    await dev.remove(shop);
    expect((await dev.observe(shop)).namespaceExists).toBe(false);
  });

  it('a change that throws is not written, and the changes batched with it still are', async () => {
    const shared = new SharedSimulatedCluster(redis, resolveSimulatedOptions(fast), { key: sharedClusterKey(clusterId) });
    const objects = (name: string) => namespaceObjects(ref(name), DEFAULT_NAMESPACE_LIMITS, 'one');
    try {
      const outcomes = await Promise.allSettled([
        shared.write((cluster) => cluster.ensureNamespace('store-one-first', objects('first'))),
        shared.write((cluster) => {
          // Changes the copy, then fails: none of it may be kept.
          cluster.ensureNamespace('store-one-half', objects('half'));
          throw new Error('refused half way');
        }),
        shared.write((cluster) => cluster.ensureNamespace('store-one-last', objects('last'))),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const names = await shared.read((cluster) => cluster.namespaceNames());
      expect(names).toEqual(expect.arrayContaining(['store-one-first', 'store-one-last']));
      expect(names).not.toContain('store-one-half');
    } finally {
      await shared.close();
    }
  });
});
