import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, loadEnv, Naming } from '@flotilla/config';
import {
  DatasetEvents,
  UploadAdminRpc,
  UploadRpc,
  type DatasetDeletedData,
  type DatasetList,
  type EventEnvelope,
  type RpcActor,
  type SinglePutTarget,
  type StartUploadResponse,
} from '@flotilla/contracts';
import { RabbitModule, RpcClient, topologyNames, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { ObjectStorage, startEmbeddedS3, StorageEnv, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';

jest.setTimeout(120_000);

const TEAM_A = randomUUID();
const TEAM_B = randomUUID();
const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER_A: RpcActor = { userId: randomUUID(), role: 'member', teamId: TEAM_A };
const MEMBER_B: RpcActor = { userId: randomUUID(), role: 'member', teamId: TEAM_B };
const DAY_MS = 86_400_000;

/**
 * The upload service in process against real Postgres, Redis, RabbitMQ and an embedded
 * S3; the admin's patterns called over the bus with the platform's RPC client, as the
 * admin service calls them, and `dataset.deleted` observed on the bus.
 */
describe('upload: the admin patterns (purge, counts, every team\'s list)', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('upload');
  const deletedQueue = naming.amqp('test.dataset-deleted');
  const deletedEvents: EventEnvelope<DatasetDeletedData>[] = [];
  const savedEnv = { ...process.env };
  let s3: EmbeddedS3;
  let storage: ObjectStorage;
  let app: INestApplicationContext;
  let caller: INestApplicationContext;
  let rpc: RpcClient;
  let connection: ChannelModel;
  let channel: Channel;
  let db: pg.Client;

  /** A dataset through start, PUT of `uploaded` of its files, and complete when all are there. */
  async function dataset(actor: RpcActor, sizes: number[], uploaded = sizes.length): Promise<{ id: string; keys: string[]; bytes: number }> {
    const started = await rpc.call<StartUploadResponse>(
      'upload',
      UploadRpc.Start,
      { datasetName: `ds-${randomUUID().slice(0, 8)}`, profile: 'xray', files: sizes.map((sizeBytes, i) => ({ filename: `f${i}.png`, contentType: 'image/png', sizeBytes })) },
      { actor },
    );
    const targets = started.files as SinglePutTarget[];
    for (const [i, target] of targets.slice(0, uploaded).entries()) {
      const res = await fetch(target.uploadUrl, { method: 'PUT', headers: target.headers, body: Buffer.alloc(sizes[i]!, i + 1) });
      expect(res.status).toBe(200);
    }
    if (uploaded === sizes.length) await rpc.call('upload', UploadRpc.Complete, { datasetId: started.datasetId }, { actor });
    // Where the bytes are: completed files under the key no upload URL names, the others where they were uploaded.
    const keys = targets.map((t) => `datasets/${started.datasetId}/${t.fileId}/${uploaded === sizes.length ? 'final/' : ''}${t.filename}`);
    return { id: started.datasetId, keys, bytes: sizes.reduce((a, b) => a + b, 0) };
  }

  const exists = async (id: string): Promise<boolean> => (await db.query(`SELECT 1 FROM "${schema}".datasets WHERE id = $1`, [id])).rowCount === 1;
  const age = (id: string, days: number): Promise<unknown> =>
    db.query(`UPDATE "${schema}".datasets SET created_at = date_trunc('milliseconds', now() - make_interval(days => $2)) WHERE id = $1`, [id, days]);

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    const env = testEnv(ns, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: `up-${ns}` });
    storage = new ObjectStorage(loadEnv(StorageEnv, env));
    // AppModule reads process.env, as in production.
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });

    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    rpc = caller.get(RpcClient);

    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    await channel.assertQueue(deletedQueue, { exclusive: true });
    await channel.bindQueue(deletedQueue, topologyNames(naming, 'upload').eventsExchange, DatasetEvents.Deleted);
    await channel.consume(deletedQueue, (m) => m && deletedEvents.push(JSON.parse(m.content.toString()) as EventEnvelope<DatasetDeletedData>), { noAck: true });
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await caller?.close();
    await app?.close();
    await channel?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await db?.end();
    await s3?.close();
    const queues = [topologyResources(naming, 'upload', 'upload'), topologyResources(naming, 'test-caller')];
    await deleteAmqp([...new Set(queues.flatMap((r) => r.queues))], [...new Set(queues.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });

  it('counts datasets per status, in all and in declared bytes', async () => {
    const before = await rpc.call<{ byStatus: Record<string, number>; total: number; totalBytes: number }>('upload', UploadAdminRpc.Counts, {}, { actor: ADMIN });
    expect(before).toEqual({ byStatus: { pending: 0, queued: 0, running: 0, passed: 0, failed: 0, error: 0 }, total: 0, totalBytes: 0 });
    await dataset(MEMBER_A, [100, 200]);
    await dataset(MEMBER_B, [300]);
    await dataset(MEMBER_A, [50, 60], 1);
    const counts = await rpc.call('upload', UploadAdminRpc.Counts, {}, { actor: ADMIN });
    expect(counts).toEqual({ byStatus: { pending: 1, queued: 2, running: 0, passed: 0, failed: 0, error: 0 }, total: 3, totalBytes: 710 });
    await expect(rpc.call('upload', UploadAdminRpc.Counts, {}, { actor: MEMBER_A })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lists every team\'s datasets with their team for administrators only; a team\'s list stays as it was', async () => {
    const all = await rpc.call<DatasetList>('upload', UploadRpc.List, { scope: 'all' }, { actor: ADMIN });
    expect(all.items).toHaveLength(3);
    for (const item of all.items) expect([TEAM_A, TEAM_B]).toContain((item as unknown as { teamId: string }).teamId);
    expect(all.items.filter((i) => (i as unknown as { teamId: string }).teamId === TEAM_A)).toHaveLength(2);
    const mine = await rpc.call<DatasetList>('upload', UploadRpc.List, {}, { actor: MEMBER_A });
    expect(mine.items).toHaveLength(2);
    for (const item of mine.items) expect(item).not.toHaveProperty('teamId');
    await expect(rpc.call('upload', UploadRpc.List, { scope: 'all' }, { actor: MEMBER_A })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a purge to anyone but an administrator, and a malformed date', async () => {
    const before = new Date().toISOString();
    await expect(rpc.call('upload', UploadAdminRpc.Purge, { before }, { actor: MEMBER_A })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rpc.call('upload', UploadAdminRpc.Purge, { before })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rpc.call('upload', UploadAdminRpc.Purge, { before: 'last tuesday' }, { actor: ADMIN })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(rpc.call('upload', UploadAdminRpc.Purge, {}, { actor: ADMIN })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect((await rpc.call<{ total: number }>('upload', UploadAdminRpc.Counts, {}, { actor: ADMIN })).total).toBe(3);
  });

  it('purges datasets created before the date and abandoned uploads: objects, rows and a dataset.deleted each', async () => {
    const old = await dataset(MEMBER_A, [1000, 2000]);
    await age(old.id, 10);
    await storage.putObject(`reports/${old.id}/${randomUUID()}.json`, Buffer.from('{"report":true}'), 'application/json');
    const recent = await dataset(MEMBER_B, [400]);
    // Started two days ago; its upload URLs expired over a day ago, one of its two files arrived.
    const abandoned = await dataset(MEMBER_B, [700, 800], 1);
    await db.query(`UPDATE "${schema}".datasets SET upload_expires_at = now() - interval '25 hours' WHERE id = $1`, [abandoned.id]);
    // Its URLs expired an hour ago: not abandoned for a day yet, so it stays.
    const lapsed = await dataset(MEMBER_B, [900], 0);
    await db.query(`UPDATE "${schema}".datasets SET upload_expires_at = now() - interval '1 hour' WHERE id = $1`, [lapsed.id]);

    const result = await rpc.call('upload', UploadAdminRpc.Purge, { before: new Date(Date.now() - DAY_MS).toISOString() }, { actor: ADMIN });
    expect(result).toEqual({ datasetsDeleted: 2, objectsDeleted: 2 + 1 + 1, bytesFreed: 3000 + 1500 });

    expect(await exists(old.id)).toBe(false);
    expect(await exists(abandoned.id)).toBe(false);
    expect(await exists(recent.id)).toBe(true);
    expect(await exists(lapsed.id)).toBe(true);
    for (const key of [...old.keys, abandoned.keys[0]!]) expect(await storage.head(key)).toBeNull();
    expect(await storage.head(recent.keys[0]!)).not.toBeNull();
    const events = await waitFor(() => {
      const mine = deletedEvents.filter((e) => [old.id, abandoned.id].includes(e.data.datasetId));
      return new Set(mine.map((e) => e.data.datasetId)).size === 2 ? [...new Map(mine.map((e) => [e.data.datasetId, e])).values()] : undefined;
    }, { what: 'two dataset.deleted events' });
    expect(events.map((e) => e.data).sort((a, b) => a.datasetId.localeCompare(b.datasetId))).toEqual(
      [
        { datasetId: old.id, teamId: TEAM_A, deletedBy: ADMIN.userId },
        { datasetId: abandoned.id, teamId: TEAM_B, deletedBy: ADMIN.userId },
      ].sort((a, b) => a.datasetId.localeCompare(b.datasetId)),
    );
    for (const e of events) expect(e).toMatchObject({ type: 'dataset.deleted', source: 'upload' });

    // Nothing is left to purge: a second run finds nothing.
    expect(await rpc.call('upload', UploadAdminRpc.Purge, { before: new Date(Date.now() - DAY_MS).toISOString() }, { actor: ADMIN })).toEqual({
      datasetsDeleted: 0,
      objectsDeleted: 0,
      bytesFreed: 0,
    });
  });

  it('purges more datasets than one round takes, each once', async () => {
    const ids: string[] = Array.from({ length: 250 }, () => randomUUID());
    await db.query(
      `INSERT INTO "${schema}".datasets (id, team_id, created_by, name, profile, status, file_count, total_bytes, upload_expires_at, created_at)
       SELECT u.id, $2, $3, 'bulk', 'xray', 'passed', 1, 10, now(), now() - interval '30 days' - make_interval(secs => u.n)
       FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)`,
      [ids, TEAM_A, MEMBER_A.userId],
    );
    for (const id of ids.slice(0, 5)) await storage.putObject(`datasets/${id}/x/a.png`, Buffer.from('x'), 'image/png');
    const left = Number((await db.query(`SELECT count(*) AS n FROM "${schema}".datasets`)).rows[0].n);
    const result = await rpc.call('upload', UploadAdminRpc.Purge, { before: new Date(Date.now() - 7 * DAY_MS).toISOString() }, { actor: ADMIN, timeoutMs: 60_000 });
    expect(result).toEqual({ datasetsDeleted: 250, objectsDeleted: 5, bytesFreed: 2500 });
    expect(Number((await db.query(`SELECT count(*) AS n FROM "${schema}".datasets`)).rows[0].n)).toBe(left - 250);
    await waitFor(() => deletedEvents.filter((e) => ids.includes(e.data.datasetId)).length >= 250, { what: '250 dataset.deleted events' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const announced = deletedEvents.filter((e) => ids.includes(e.data.datasetId)).map((e) => e.data.datasetId);
    expect(new Set(announced).size).toBe(250);
  });
});
