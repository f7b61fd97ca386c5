import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import type { RpcActor } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { DEFAULT_NAMESPACE_LIMITS } from '../src/drivers/cluster-driver.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoreRepository } from '../src/stores/store-repository.js';
import { StoresService } from '../src/stores/stores.service.js';

/**
 * A store whose namespace name is still held by a namespace being terminated (a store
 * of that name deleted a moment before): provisioning waits for it to go instead of
 * failing the store for good. Real Postgres, Redis (BullMQ) and RabbitMQ.
 */
describe('a namespace being terminated is waited out', () => {
  const ns = uniqueNamespace();
  const actor: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
  const driver = new SimulatedDriver(
    { podStartMs: 50, podReadyMs: 50, controllerIntervalMs: 200, namespaceTerminationMs: 4_000 },
    { installationId: ns, namespacePrefix: `store-${ns}` },
  );
  const saved = { ...process.env };
  let app: NestFastifyApplication;

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { RECONCILE_INTERVAL_MS: '1000', ROLLOUT_DEADLINE_SECONDS: '5', CANARY_PAUSE_MS: '0' }));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(driver).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    process.env = saved;
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp(topologyResources(new Naming(ns), 'provisioner', 'provisioner').queues, topologyResources(new Naming(ns), 'provisioner').exchanges)]);
  });

  it('ends ready once the old namespace is gone', async () => {
    const namespace = `store-${ns}-reborn-shop`;
    const old = { storeId: randomUUID(), name: 'reborn-shop', namespace, teamId: actor.teamId!, template: 'wordpress' as const };
    await driver.ensureNamespace(old, DEFAULT_NAMESPACE_LIMITS);
    const gone = driver.remove(old);
    expect(driver.cluster.namespace(namespace)?.phase).toBe('Terminating');

    const store = await app.get(StoresService).create({ name: 'reborn-shop', template: 'wordpress' }, actor);
    const repo = app.get(StoreRepository);
    await gone;
    const row = await waitFor(async () => {
      const found = await repo.find(store.id);
      return found?.status === 'ready' || found?.status === 'failed' ? found : undefined;
    }, { what: 'the store to settle', timeoutMs: 60_000 });
    expect(row).toMatchObject({ status: 'ready', error: null, namespace });
    expect(driver.cluster.namespace(namespace)?.labels['flotilla.io/store-id']).toBe(store.id);
  });
});
