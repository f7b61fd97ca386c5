import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { ProvisionerRpc, StoreEventTypes, type RpcActor, type StoreHealth } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { CALLER_TOKEN_HEADER, callerToken, deleteAmqp, deleteKeys, dropSchemas, rawBroker, testEnv, uniqueNamespace, waitFor, type RawBroker } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoreRepository } from '../src/stores/store-repository.js';
import { StoresService } from '../src/stores/stores.service.js';

const PERIOD_MS = 1000;

/**
 * Store health against real Postgres, Redis and RabbitMQ: a ready store whose pods are all
 * killed and kept from starting (simulated chaos) goes `down` within two reconcile periods
 * with a reason, as a store event and a `store.health` event on the bus; up again when
 * its pods are back. The health RPC is team-scoped.
 */
describe('store health: a ready store whose pods died is down', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const member: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
  const admin: RpcActor = { userId: randomUUID(), role: 'admin', teamId: randomUUID() };
  const stranger: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };
  const driver = new SimulatedDriver({ podStartMs: 50, podReadyMs: 50, controllerIntervalMs: 100, namespaceTerminationMs: 100 }, { installationId: ns, namespacePrefix: `store-${ns}` });
  const saved = { ...process.env };
  const busEvents: Array<{ type: string; data: { storeId: string; health: string; reason: string | null } }> = [];
  let app: NestFastifyApplication;
  let stores: StoresService;
  let repo: StoreRepository;
  let broker: RawBroker;

  const health = async (storeId: string, actor: RpcActor) =>
    broker.rpc('provisioner', ProvisionerRpc.Health, { storeId }, { actor }, (content) => ({ [CALLER_TOKEN_HEADER]: callerToken(actor, ProvisionerRpc.Health, content) }));
  const healthOf = async (storeId: string): Promise<StoreHealth> => {
    const reply = await health(storeId, member);
    if (!reply.ok) throw new Error(`health: ${reply.error.code}`);
    return reply.data as StoreHealth;
  };

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { RECONCILE_INTERVAL_MS: String(PERIOD_MS), ROLLOUT_DEADLINE_SECONDS: '5', CANARY_PAUSE_MS: '0' }));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(driver).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.init();
    stores = app.get(StoresService);
    repo = app.get(StoreRepository);
    broker = await rawBroker(naming);
    const { queue } = await broker.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await broker.channel.bindQueue(queue, naming.amqp('flotilla.events'), StoreEventTypes.Health);
    await broker.channel.consume(queue, (m) => m && busEvents.push(JSON.parse(m.content.toString()) as (typeof busEvents)[number]), { noAck: true });
  });

  afterAll(async () => {
    await broker?.close();
    await app?.close();
    process.env = saved;
    const r = topologyResources(naming, 'provisioner', 'provisioner');
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp(r.queues, r.exchanges)]);
  });

  it('goes down within two periods when every pod is killed and kept from starting, and up when they return', async () => {
    const store = await stores.create({ name: 'sick-shop', template: 'wordpress', replicas: 2 }, member);
    await waitFor(async () => ((await healthOf(store.id)).status === 'up' ? true : undefined), { what: 'the store to be up', timeoutMs: 20_000 });

    const chaos = await stores.chaos(store.id, 2, admin, true);
    expect(chaos.killed).toHaveLength(2);
    const killedAt = Date.now();
    const down = await waitFor(async () => {
      const h = await healthOf(store.id);
      return h.status === 'down' ? h : undefined;
    }, { what: 'the store to be down', timeoutMs: 10_000 });
    const tookMs = Date.now() - killedAt;
    // Two periods, plus one pass's own run time.
    expect(tookMs).toBeLessThanOrEqual(2 * PERIOD_MS + 500);
    expect(down.reason).toMatch(/^0 ready pods: 2 pending \(Unschedulable: /);
    // API.md "Health": down is status `degraded`, the reason as the store's error.
    const degraded = await repo.find(store.id);
    expect([degraded?.status, degraded?.error]).toEqual(['degraded', `health: down — ${down.reason ?? ''}`]);
    expect((await repo.events(store.id)).filter((e) => e.type === 'health').map((e) => e.message)).toEqual([
      expect.stringMatching(/^health: up/),
      expect.stringMatching(/^health: down — 0 ready pods: 2 pending/),
    ]);
    await waitFor(async () => (busEvents.some((e) => e.data.storeId === store.id && e.data.health === 'down') ? true : undefined), { what: 'a store.health down event' });

    await stores.chaos(store.id, 0, admin, false);
    const up = await waitFor(async () => {
      const h = await healthOf(store.id);
      return h.status === 'up' ? h : undefined;
    }, { what: 'the store to be up again', timeoutMs: 10_000 });
    expect(up.reason).toBeNull();
    expect(up.transitions.map((t) => [t.from, t.to])).toEqual([
      ['unknown', 'up'],
      ['up', 'down'],
      ['down', 'up'],
    ]);
    expect(up.transitions[1]?.reason).toBe(down.reason);
    expect(up.since).toBe(up.transitions[2]?.at);
    const recovered = await repo.find(store.id);
    expect([recovered?.status, recovered?.error]).toEqual(['ready', null]);
    await waitFor(async () => (busEvents.filter((e) => e.data.storeId === store.id && e.data.health === 'up').length === 2 ? true : undefined), {
      what: 'a second store.health up event',
    });
    expect(busEvents.filter((e) => e.data.storeId === store.id).map((e) => [e.type, e.data.health])).toEqual([
      [StoreEventTypes.Health, 'up'],
      [StoreEventTypes.Health, 'down'],
      [StoreEventTypes.Health, 'up'],
    ]);
  });

  it('leaves a store degraded by something else degraded, with its error, when health goes down and up', async () => {
    const store = await stores.create({ name: 'aborted-shop', template: 'wordpress', replicas: 1 }, member);
    await waitFor(async () => ((await healthOf(store.id)).status === 'up' ? true : undefined), { what: 'the store to be up', timeoutMs: 20_000 });
    // As an aborted rollout leaves it (StoreOperations: status degraded, the reason as error).
    await repo.dataSource.query(`UPDATE stores SET status = 'degraded', error = 'rollout aborted' WHERE id = $1`, [store.id]);
    await stores.chaos(store.id, 1, admin, true);
    await waitFor(async () => ((await healthOf(store.id)).status === 'down' ? true : undefined), { what: 'the store to be down', timeoutMs: 10_000 });
    expect(await repo.find(store.id)).toMatchObject({ status: 'degraded', error: 'rollout aborted' });
    await stores.chaos(store.id, 0, admin, false);
    await waitFor(async () => ((await healthOf(store.id)).status === 'up' ? true : undefined), { what: 'the store to be up again', timeoutMs: 10_000 });
    expect(await repo.find(store.id)).toMatchObject({ status: 'degraded', error: 'rollout aborted' });
  });

  it('refuses to hold pods when the driver cannot', async () => {
    const store = await stores.create({ name: 'held-shop', template: 'wordpress' }, member);
    const holdPods = driver.holdPods.bind(driver);
    (driver as { holdPods?: unknown }).holdPods = undefined;
    try {
      await expect(stores.chaos(store.id, 0, admin, true)).rejects.toMatchObject({ code: 'UNPROCESSABLE' });
    } finally {
      driver.holdPods = holdPods;
    }
  });

  it("answers NOT_FOUND for another team's store", async () => {
    const store = await stores.create({ name: 'private-shop', template: 'wordpress' }, member);
    const reply = await health(store.id, stranger);
    expect(reply.ok ? 'ok' : reply.error.code).toBe('NOT_FOUND');
    expect((await health(randomUUID(), member)).ok).toBe(false);
  });
});
