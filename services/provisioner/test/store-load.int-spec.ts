import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { AuditActions, ProvisionerRpc, type AuditEventData, type EventEnvelope, type RpcActor, type Store, type StoreEvent } from '@flotilla/contracts';
import { topologyNames, topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, TEST_AMQP_URL, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import type { ClusterDriver } from '../src/drivers/cluster-driver.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoresService } from '../src/stores/stores.service.js';
import { ProvisionerProcesses } from './provisioner-processes.js';

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: randomUUID() };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: ADMIN.teamId };

const codeOf = (call: Promise<unknown>): Promise<string> => call.then(() => 'OK', (error: { code?: string }) => error.code ?? String(error));

/**
 * `provisioner.load` (the gateway's `POST /admin/stores/{id}/load`) on a provisioner
 * process with the shared simulated cluster and autoscaling on every store: load up,
 * the store's pods rise; load down, they fall (read from the cluster's state in Redis).
 */
describe('store load: autoscaling can be watched', () => {
  const ns = uniqueNamespace();
  const processes = new ProvisionerProcesses();
  let connection: ChannelModel;
  let channel: Channel;
  const audits: EventEnvelope<AuditEventData>[] = [];

  beforeAll(async () => {
    await processes.start(ns, ns, { SIMULATED_AUTOSCALE: '1-4@50', SIMULATED_AUTOSCALE_STABILIZATION_MS: '1000' });
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    const queue = new Naming(ns).amqp('test.audit');
    await channel.assertQueue(queue, { exclusive: true });
    await channel.bindQueue(queue, topologyNames(new Naming(ns), 'provisioner').eventsExchange, 'audit.#');
    await channel.consume(queue, (m) => m && audits.push(JSON.parse(m.content.toString()) as EventEnvelope<AuditEventData>), { noAck: true });
  });

  afterAll(async () => {
    await channel?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await processes.cleanUp();
  });

  it('rises with load and falls without it; refused to members, out of range, unknown stores; a store event and an audit entry', async () => {
    const created = await processes.call<Store>(ns, ProvisionerRpc.Create, { name: 'busy-shop', template: 'wordpress', replicas: 1 }, ADMIN);
    const store = await processes.until(ns, created.id, ADMIN, 'ready');
    const podCount = (): Promise<number> => processes.cluster(ns, (cluster) => cluster.pods(store.namespace).filter((pod) => pod.ready).length);
    expect(await podCount()).toBe(1);

    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 200 }, MEMBER))).toBe('FORBIDDEN');
    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 1001 }, ADMIN))).toBe('UNPROCESSABLE');
    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: -1 }, ADMIN))).toBe('UNPROCESSABLE');
    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 'lots' }, ADMIN))).toBe('VALIDATION');
    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 12.5 }, ADMIN))).toBe('VALIDATION');
    expect(await codeOf(processes.call(ns, ProvisionerRpc.Load, { storeId: randomUUID(), cpuPercent: 100 }, ADMIN))).toBe('NOT_FOUND');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await podCount()).toBe(1);

    // 200 % of the request on one pod, target 50 %: four pods (the maximum).
    expect(await processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 200 }, ADMIN)).toEqual({ storeId: store.id, cpuPercent: 200 });
    await waitFor(async () => ((await podCount()) === 4 ? true : undefined), { what: 'four ready pods under load', timeoutMs: 15_000 });
    const scaled = await processes.cluster(ns, (cluster) => cluster.deployments(store.namespace)[0]);
    expect(scaled).toMatchObject({ specReplicas: 1, replicas: 4 });

    await processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 5 }, ADMIN);
    await waitFor(async () => ((await podCount()) === 1 ? true : undefined), { what: 'back to one pod without load', timeoutMs: 15_000 });
    const events = await processes.call<{ items: StoreEvent[] }>(ns, ProvisionerRpc.Events, { storeId: store.id }, ADMIN);
    expect(events.items.map((e) => e.message).filter((m) => m.startsWith('load:'))).toEqual([
      "load: cpu set to 200% of each pod's request by an administrator",
      "load: cpu set to 5% of each pod's request by an administrator",
    ]);
    // The store stayed what it was asked to be: ready, one replica desired, no repair of the autoscaled pods.
    const after = await processes.call<Store>(ns, ProvisionerRpc.Get, { storeId: store.id }, ADMIN);
    expect(after).toMatchObject({ status: 'ready', desired: expect.objectContaining({ replicas: 1 }) });
    expect(events.items.filter((e) => e.type === 'repair')).toEqual([]);
    await waitFor(() => (audits.length === 2 ? true : undefined), { what: 'two audit events' });
    expect(audits.map((a) => [a.type, a.data.action, a.data.actorId, a.data.target, a.data.details?.cpuPercent])).toEqual([
      [`audit.${AuditActions.StoreLoad}`, AuditActions.StoreLoad, ADMIN.userId, `store:${store.id}`, 200],
      [`audit.${AuditActions.StoreLoad}`, AuditActions.StoreLoad, ADMIN.userId, `store:${store.id}`, 5],
    ]);
  });
});

describe('store load: the kubernetes driver has none', () => {
  const ns = uniqueNamespace();
  const saved = { ...process.env };
  const simulated = new SimulatedDriver({ podStartMs: 20, podReadyMs: 20 }, { installationId: ns, namespacePrefix: `store-${ns}` });
  // Stands in for the kubernetes driver: what the load handler sees is its kind, and that it is no simulated driver.
  const kubernetesLike: ClusterDriver = {
    kind: 'kubernetes',
    ensureNamespace: (...args) => simulated.ensureNamespace(...args),
    apply: (...args) => simulated.apply(...args),
    observe: (...args) => simulated.observe(...args),
    remove: (...args) => simulated.remove(...args),
    killPods: (...args) => simulated.killPods(...args),
    listStoreNamespaces: () => simulated.listStoreNamespaces(),
    check: () => simulated.check(),
    close: () => simulated.close(),
  };
  let app: NestFastifyApplication;

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { RECONCILE_INTERVAL_MS: '500' }));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(kubernetesLike).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    process.env = saved;
    const naming = new Naming(ns);
    const r = [topologyResources(naming, 'provisioner', 'provisioner'), topologyResources(naming, 'test-caller')];
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp([...new Set(r.flatMap((x) => x.queues))], [...new Set(r.flatMap((x) => x.exchanges))])]);
  });

  it('answers CONFLICT naming the simulated driver, and nothing is recorded', async () => {
    const stores = app.get(StoresService);
    const store = await stores.create({ name: 'real-shop', template: 'wordpress' }, ADMIN);
    await waitFor(async () => ((await stores.get(store.id, ADMIN)).status === 'ready' ? true : undefined), { what: 'the store to be ready' });
    const processes = new ProvisionerProcesses();
    try {
      const error = await processes.call(ns, ProvisionerRpc.Load, { storeId: store.id, cpuPercent: 100 }, ADMIN).catch((e: unknown) => e as { code: string; message: string });
      expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('simulated') });
      expect((await stores.events(store.id, ADMIN)).items.filter((e) => e.message.startsWith('load:'))).toEqual([]);
    } finally {
      await processes.closeCallers();
    }
  });
});
