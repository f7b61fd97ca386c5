import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import type { RpcActor } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoreRepository } from '../src/stores/store-repository.js';
import { StoresService } from '../src/stores/stores.service.js';

/**
 * The reconcile loop against real Postgres, Redis (BullMQ) and RabbitMQ, with the
 * simulated cluster held by the test so it can change the cluster behind the
 * provisioner's back, as an operator with kubectl would.
 */
describe('reconcile: drift is repaired', () => {
  const ns = uniqueNamespace();
  const actor: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
  const driver = new SimulatedDriver({ podStartMs: 50, podReadyMs: 50, controllerIntervalMs: 200, namespaceTerminationMs: 100 }, { installationId: ns, namespacePrefix: `store-${ns}` });
  const saved = { ...process.env };
  let app: NestFastifyApplication;
  let stores: StoresService;
  let repo: StoreRepository;

  const status = async (id: string): Promise<string | undefined> => (await repo.find(id))?.status;
  // New stores get the installation's prefix: `store-{installation id}-{name}`, the id being this test's NAMESPACE.
  const namespaceOf = (name: string): string => `store-${ns}-${name}`;
  const refOf = (name: string, storeId = '') => ({ storeId, name, namespace: namespaceOf(name), teamId: actor.teamId!, template: 'wordpress' as const });

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { ORPHAN_NAMESPACE_GRACE_MS: '0', RECONCILE_INTERVAL_MS: '500', ROLLOUT_DEADLINE_SECONDS: '5', CANARY_PAUSE_MS: '0' }));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(driver).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.init();
    stores = app.get(StoresService);
    repo = app.get(StoreRepository);
  });

  afterAll(async () => {
    await app?.close();
    process.env = saved;
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp(topologyResources(new Naming(ns), 'provisioner', 'provisioner').queues, topologyResources(new Naming(ns), 'provisioner').exchanges)]);
  });

  it('recreates a namespace deleted by hand and reinstalls the store', async () => {
    const store = await stores.create({ name: 'drift-shop', template: 'wordpress', replicas: 2 }, actor);
    await waitFor(async () => ((await status(store.id)) === 'ready' ? true : undefined), { what: 'the store to be ready' });
    await driver.cluster.deleteNamespace(namespaceOf('drift-shop'));
    expect((await driver.observe(refOf('drift-shop'))).namespaceExists).toBe(false);
    const repaired = await waitFor(async () => {
      const observed = await driver.observe(refOf('drift-shop'));
      return observed.namespaceExists && observed.pods.filter((p) => p.ready).length === 2 ? observed : undefined;
    }, { what: 'the namespace and pods to be back', timeoutMs: 20_000 });
    expect(repaired.revisions).toEqual([expect.objectContaining({ revision: 1, replicas: 2, weight: 100 })]);
    expect((await repo.events(store.id)).find((e) => e.type === 'repair')?.message).toContain(`namespace ${namespaceOf('drift-shop')} was missing: recreated, revision 1 reinstalled`);
    // Health may have seen the store down while its namespace was gone: it is ready again on the next check.
    await waitFor(async () => ((await status(store.id)) === 'ready' ? true : undefined), { what: 'the repaired store to be ready again', timeoutMs: 10_000 });
  });

  it('puts back a release changed behind its back', async () => {
    const store = await stores.create({ name: 'scaled-shop', template: 'wordpress', replicas: 2 }, actor);
    await waitFor(async () => ((await status(store.id)) === 'ready' ? true : undefined), { what: 'the store to be ready' });
    driver.cluster.setDeployment(namespaceOf('scaled-shop'), { revision: 1, version: '6.6', template: 'wordpress', replicas: 1, weight: 100 });
    await waitFor(async () => ((await repo.events(store.id)).some((e) => e.type === 'repair' && e.message.includes('release drifted')) ? true : undefined), {
      what: 'the drift to be repaired',
    });
    await waitFor(async () => ((await driver.observe(refOf('scaled-shop'))).pods.filter((p) => p.ready).length === 2 ? true : undefined), { what: 'two pods again' });
  });

  it('finishes an operation whose job was lost, and removes namespaces of stores that do not exist', async () => {
    const store = await stores.create({ name: 'stuck-shop', template: 'wordpress' }, actor);
    await waitFor(async () => ((await status(store.id)) === 'ready' ? true : undefined), { what: 'the store to be ready' });
    // As if a provisioner died after recording the change and before queuing its job.
    await repo.dataSource.query(`UPDATE stores SET status = 'updating', replicas = 3 WHERE id = $1`, [store.id]);
    await driver.ensureNamespace(refOf('orphan-shop', randomUUID()), (await import('../src/drivers/cluster-driver.js')).DEFAULT_NAMESPACE_LIMITS);
    await waitFor(async () => ((await status(store.id)) === 'ready' && (await repo.find(store.id))?.observed_ready === 3 ? true : undefined), {
      what: 'the lost update to be finished',
      timeoutMs: 20_000,
    });
    await waitFor(async () => (!(await driver.listStoreNamespaces()).some((n) => n.name === namespaceOf('orphan-shop')) ? true : undefined), { what: 'the orphan namespace to go' });
  });
});
