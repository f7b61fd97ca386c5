import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { UploadAdminRpc, UploadRpc, ValidationEvents, type RpcActor } from '@flotilla/contracts';
import { topologyNames, topologyResources } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { callerToken, CALLER_TOKEN_HEADER, deleteAmqp, deleteKeys, dropSchemas, forgedCalls, forgedSignature, rawBroker, type RawBroker, REFUSED, TEST_DATABASE_URL, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';

jest.setTimeout(120_000);

const TEAM = randomUUID();
const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: TEAM };

/**
 * The upload service refuses what anything on the broker could send without holding the
 * services' key: RPCs with a forged actor and a missing, foreign or expired caller token,
 * a member's token on an admin pattern, and events without the platform's signature.
 */
describe('upload: a caller the platform did not sign is refused', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('upload');
  const savedEnv = { ...process.env };
  let s3: EmbeddedS3;
  let app: INestApplicationContext;
  let broker: RawBroker;
  let db: pg.Client;

  /** A dataset written straight into the table, thirty days old, waiting for its validation. */
  async function oldDataset(): Promise<{ id: string; jobId: string }> {
    const id = randomUUID();
    const jobId = randomUUID();
    await db.query(
      `INSERT INTO "${schema}".datasets (id, team_id, created_by, name, profile, status, file_count, total_bytes, upload_expires_at, created_at, job_id)
       VALUES ($1, $2, $3, 'old', 'xray', 'queued', 1, 10, now(), now() - interval '30 days', $4)`,
      [id, TEAM, MEMBER.userId, jobId],
    );
    return { id, jobId };
  }
  const statusOf = async (id: string): Promise<string | undefined> =>
    (await db.query<{ status: string }>(`SELECT status FROM "${schema}".datasets WHERE id = $1`, [id])).rows[0]?.status;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    Object.assign(process.env, testEnv(ns, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: `up-${ns}` }));
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    broker = await rawBroker(naming);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await broker?.close();
    await app?.close();
    await db?.end();
    await s3?.close();
    const r = topologyResources(naming, 'upload', 'upload');
    await deleteAmqp(r.queues, r.exchanges);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });

  it('refuses a purge with a forged actor: no token, a foreign key, an expired token, a member\'s token; nothing is deleted', async () => {
    const dataset = await oldDataset();
    const codes = await forgedCalls(broker, 'upload', UploadAdminRpc.Purge, { before: new Date().toISOString() }, ADMIN, MEMBER);
    expect(codes).toEqual(REFUSED);
    expect(await statusOf(dataset.id)).toBe('queued');
  });

  it('refuses 50 forged purges sent at once, each counted in rpc_server_refused_total; nothing is deleted', async () => {
    const dataset = await oldDataset();
    const refused = async (): Promise<number> => {
      const metric = await app.get(MetricsService).registry.getSingleMetric('rpc_server_refused_total')?.get();
      return (metric?.values ?? []).filter((v) => v.labels.reason === 'missing').reduce((sum, v) => sum + v.value, 0);
    };
    const before = await refused();
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => broker.rpc('upload', UploadAdminRpc.Purge, { before: new Date().toISOString() }, { actor: ADMIN })),
    );
    expect(replies.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(50).fill('UNAUTHENTICATED'));
    expect((await refused()) - before).toBe(50);
    expect(await statusOf(dataset.id)).toBe('queued');
  });

  it('refuses an administrator\'s valid token taken off one request and sent with another payload', async () => {
    const dataset = await oldDataset();
    // What an administrator really sent: a purge of nothing (before 2000).
    const honest = Buffer.from(JSON.stringify({ pattern: UploadAdminRpc.Purge, payload: { before: '2000-01-01T00:00:00.000Z' } }));
    const token = callerToken(ADMIN, UploadAdminRpc.Purge, honest);
    const reply = await broker.rpc('upload', UploadAdminRpc.Purge, { before: new Date().toISOString() }, {}, { [CALLER_TOKEN_HEADER]: token });
    expect(reply.ok ? 'ok' : reply.error.code).toBe('UNAUTHENTICATED');
    expect(await statusOf(dataset.id)).toBe('queued');
  });

  it('refuses a team\'s pattern without a valid token, even with an actor in the body', async () => {
    const codes = await forgedCalls(broker, 'upload', UploadRpc.List, { scope: 'all' }, ADMIN, MEMBER);
    expect(codes).toEqual(REFUSED);
  });

  it('dead-letters a validation.completed without a signature or with a forged one, and applies neither', async () => {
    const dlq = topologyNames(naming, 'upload').deadLetterQueue;
    const dataset = await oldDataset();
    const data = { datasetId: dataset.id, jobId: dataset.jobId, teamId: TEAM, status: 'passed', summary: { errors: 0, warnings: 0 }, files: [], finishedAt: new Date().toISOString() };
    const before = (await broker.channel.checkQueue(dlq)).messageCount;
    await broker.event(ValidationEvents.Completed, data);
    await broker.event(ValidationEvents.Completed, data, forgedSignature());
    await waitFor(async () => ((await broker.channel.checkQueue(dlq)).messageCount >= before + 2 ? true : undefined), {
      what: 'both forged events in the dead-letter queue',
      timeoutMs: 10_000,
    });
    expect(await statusOf(dataset.id)).toBe('queued');
  });
});
