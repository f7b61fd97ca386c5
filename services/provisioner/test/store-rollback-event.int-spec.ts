import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { StoreEventTypes, type EventEnvelope, type RpcActor, type StoreEventData } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, rawBroker, testEnv, uniqueNamespace, waitFor, type RawBroker } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoreRepository } from '../src/stores/store-repository.js';
import { StoresService } from '../src/stores/stores.service.js';

const BROKEN = '9.9.9-broken';

/**
 * A rollout that never gets ready is rolled back to the stable revision; the store is
 * degraded and `store.rollback` goes out on the bus (through the outbox, with
 * `store.degraded`), which admins' notifications follow.
 */
describe('store rollback: a store.rollback bus event', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const member: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
  const driver = new SimulatedDriver(
    { podStartMs: 50, podReadyMs: 50, controllerIntervalMs: 100, namespaceTerminationMs: 100, failingVersions: [BROKEN] },
    { installationId: ns, namespacePrefix: `store-${ns}` },
  );
  const saved = { ...process.env };
  const busEvents: EventEnvelope<StoreEventData>[] = [];
  let app: NestFastifyApplication;
  let stores: StoresService;
  let repo: StoreRepository;
  let broker: RawBroker;

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { RECONCILE_INTERVAL_MS: '1000', ROLLOUT_DEADLINE_SECONDS: '3', CANARY_PAUSE_MS: '0' }));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(driver).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.init();
    stores = app.get(StoresService);
    repo = app.get(StoreRepository);
    broker = await rawBroker(naming);
    const { queue } = await broker.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await broker.channel.bindQueue(queue, naming.amqp('flotilla.events'), StoreEventTypes.Rollback);
    await broker.channel.bindQueue(queue, naming.amqp('flotilla.events'), StoreEventTypes.Degraded);
    await broker.channel.consume(queue, (m) => m && busEvents.push(JSON.parse(m.content.toString()) as EventEnvelope<StoreEventData>), { noAck: true });
  });

  afterAll(async () => {
    await broker?.close();
    await app?.close();
    process.env = saved;
    const r = topologyResources(naming, 'provisioner', 'provisioner');
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp(r.queues, r.exchanges)]);
  });

  it('publishes store.rollback with the reason when an update is rolled back', async () => {
    const store = await stores.create({ name: 'rolled-shop', template: 'wordpress', replicas: 1 }, member);
    await waitFor(async () => ((await repo.find(store.id))?.status === 'ready' ? true : undefined), { what: 'the store ready', timeoutMs: 20_000 });
    await stores.update(store.id, { version: BROKEN }, member);
    const rollback = await waitFor(() => busEvents.find((e) => e.type === StoreEventTypes.Rollback && e.data.storeId === store.id), {
      what: 'the store.rollback event',
      timeoutMs: 30_000,
    });
    expect(rollback.data).toMatchObject({ name: 'rolled-shop', teamId: member.teamId, status: 'degraded', message: expect.stringMatching(/^degraded: .+; serving revision 1$/) });
    expect(busEvents.filter((e) => e.type === StoreEventTypes.Degraded && e.data.storeId === store.id)).toHaveLength(1);
    expect(busEvents.filter((e) => e.type === StoreEventTypes.Rollback && e.data.storeId === store.id)).toHaveLength(1);
  });
});
