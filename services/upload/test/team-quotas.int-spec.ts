import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import { QuotaRpc, RpcError, UploadRpc, type RpcActor, type SinglePutTarget, type StartUploadResponse, type TeamQuotaView } from '@flotilla/contracts';
import { RabbitModule, RpcClient, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { UploadStartService } from '../src/datasets/upload-start.service.js';

jest.setTimeout(120_000);

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const member = (teamId: string): RpcActor => ({ userId: randomUUID(), role: 'member', teamId });

/**
 * Team quotas against real Postgres, RabbitMQ and an embedded S3: each of the four
 * limits refuses a start (422 naming limit, usage and request; nothing signed, nothing
 * recorded), an administrator's override lets the same start through, and 50 starts
 * at once never open more uploads than the team may have.
 */
describe('upload: team quotas at upload/start', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('upload');
  const savedEnv = { ...process.env };
  let s3: EmbeddedS3;
  let app: INestApplicationContext;
  let caller: INestApplicationContext;
  let rpc: RpcClient;
  let db: pg.Client;

  const start = (actor: RpcActor, sizes: number[]) =>
    rpc.call<StartUploadResponse>(
      'upload',
      UploadRpc.Start,
      { datasetName: `ds-${randomUUID().slice(0, 8)}`, profile: 'xray', files: sizes.map((sizeBytes, i) => ({ filename: `f${i}.png`, contentType: 'image/png', sizeBytes })) },
      { actor },
    );
  const refusal = async (promise: Promise<unknown>): Promise<RpcError> => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    return error as RpcError;
  };
  const datasetsOf = async (teamId: string): Promise<number> =>
    Number((await db.query(`SELECT count(*) AS n FROM "${schema}".datasets WHERE team_id = $1`, [teamId])).rows[0].n);
  const setQuota = (teamId: string, limits: Record<string, number | null>) => rpc.call<TeamQuotaView>('upload', QuotaRpc.Set, { teamId, ...limits }, { actor: ADMIN });

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    const env = testEnv(ns, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: `up-${ns}`, QUOTA_MAX_CONCURRENT_UPLOADS: '3', QUOTA_MAX_FILES_PER_DATASET: '4' });
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    rpc = caller.get(RpcClient);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await caller?.close();
    await app?.close();
    await db?.end();
    await s3?.close();
    const queues = [topologyResources(naming, 'upload', 'upload'), topologyResources(naming, 'test-caller')];
    await deleteAmqp([...new Set(queues.flatMap((r) => r.queues))], [...new Set(queues.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });

  it('refuses each of the four limits with the limit, the usage and the request, and records nothing', async () => {
    const cases: { limits: Record<string, number>; sizes: number[]; expected: { limit: string; max: number; used: number; requested: number } }[] = [
      { limits: {}, sizes: [1, 1, 1, 1, 1], expected: { limit: 'filesPerDataset', max: 4, used: 0, requested: 5 } },
      { limits: { maxDatasetBytes: 100 }, sizes: [60, 41], expected: { limit: 'datasetBytes', max: 100, used: 0, requested: 101 } },
      { limits: { maxStoredBytes: 150 }, sizes: [100], expected: { limit: 'storedBytes', max: 150, used: 100, requested: 100 } },
      { limits: { maxConcurrentUploads: 1 }, sizes: [10], expected: { limit: 'concurrentUploads', max: 1, used: 1, requested: 1 } },
    ];
    for (const { limits, sizes, expected } of cases) {
      const team = randomUUID();
      if (Object.keys(limits).length > 0) await setQuota(team, limits);
      // The usage the stored-bytes and concurrency cases run into: one upload already pending.
      if (expected.used > 0) await start(member(team), [expected.limit === 'storedBytes' ? 100 : 10]);
      const before = await datasetsOf(team);
      const error = await refusal(start(member(team), sizes));
      expect(error.code).toBe('UNPROCESSABLE');
      expect(error.httpStatus).toBe(422);
      expect(error.message).toContain(String(expected.max));
      expect(error.errors).toEqual([expect.objectContaining(expected)]);
      expect(await datasetsOf(team)).toBe(before);
    }
  });

  it('lets the same start through once an administrator raises the limit, and falls back to the default on null', async () => {
    const team = randomUUID();
    await setQuota(team, { maxDatasetBytes: 10 });
    await refusal(start(member(team), [11]));
    const raised = await setQuota(team, { maxDatasetBytes: 11 });
    expect(raised.limits.maxDatasetBytes).toBe(11);
    const started = await start(member(team), [11]);
    expect((started.files[0] as SinglePutTarget).uploadUrl).toMatch(/^http/);
    const view = await rpc.call<TeamQuotaView>('upload', QuotaRpc.Get, { teamId: team }, { actor: ADMIN });
    expect(view.usage).toEqual({ storedBytes: 11, concurrentUploads: 1 });
    // An absent limit stays as it was; null falls back to the configured default.
    const reset = await setQuota(team, { maxDatasetBytes: null, maxFilesPerDataset: 2 });
    expect(reset.overrides).toEqual({ maxFilesPerDataset: 2 });
    expect(reset.limits.maxConcurrentUploads).toBe(3);
  });

  it('refuses members and bad bodies on the quota patterns', async () => {
    const team = randomUUID();
    expect((await refusal(rpc.call('upload', QuotaRpc.Set, { teamId: team, maxStoredBytes: 1 }, { actor: member(team) }))).code).toBe('FORBIDDEN');
    expect((await refusal(rpc.call('upload', QuotaRpc.Get, { teamId: team }, { actor: member(team) }))).code).toBe('FORBIDDEN');
    expect((await refusal(setQuota(team, { maxStoredBytes: -1 }))).code).toBe('VALIDATION');
    expect((await refusal(setQuota(team, {}))).code).toBe('VALIDATION');
    expect((await refusal(rpc.call('upload', QuotaRpc.Get, { teamId: 'nope' }, { actor: ADMIN }))).code).toBe('VALIDATION');
  });

  it('deleted datasets stop counting', async () => {
    const team = randomUUID();
    await setQuota(team, { maxStoredBytes: 100 });
    const first = await start(member(team), [100]);
    await refusal(start(member(team), [1]));
    await rpc.call('upload', UploadRpc.Delete, { datasetId: first.datasetId }, { actor: member(team) });
    await start(member(team), [100]);
  });

  it('50 starts at once open no more uploads than the concurrent-upload limit', async () => {
    const team = randomUUID();
    await setQuota(team, { maxConcurrentUploads: 5 });
    const starts = app.get(UploadStartService);
    const actor = member(team);
    // In process, so that all 50 really run at once (the bus hands them out by prefetch).
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        starts.start({ datasetName: `p${i}`, profile: 'xray', files: [{ filename: 'a.png', contentType: 'image/png', sizeBytes: 1 }] }, actor),
      ),
    );
    const created = await datasetsOf(team);
    expect(created).toBe(5);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'UNPROCESSABLE', errors: [expect.objectContaining({ limit: 'concurrentUploads', max: 5 })] });
  });
});
