import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp, { type ChannelModel } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, loadEnv, Naming } from '@flotilla/config';
import { DatasetEvents, ValidatorAdminRpc, ValidatorRpc, type DatasetUploadedData, type EventEnvelope, type RpcActor } from '@flotilla/contracts';
import { RabbitModule, RpcClient, topologyNames, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { png } from '@flotilla/samples';
import { ObjectStorage, startEmbeddedS3, StorageEnv, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, dropSchemas, freePort, ServiceProcess, signedEvent, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

function build(): void {
  const result = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'services/validator'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -b services/validator failed:\n${result.stdout}${result.stderr}`);
}

interface Item {
  datasetId: string;
  jobId: string;
  teamId: string;
  status: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: { errors: number; warnings: number };
  attempts: number;
  lastError: string | null;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}

/**
 * The validator as a process; `validator.list` and `validator.counts` called over the bus
 * with the platform's RPC client, as the admin service calls them. One job goes the real
 * way (a `dataset.uploaded` event validated from S3); the others are written to the
 * validator's table directly, to have every status and ties in `queued_at`.
 */
describe('validator: the admin patterns (list, counts)', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('validation');
  const teams = [randomUUID(), randomUUID()];
  let s3: EmbeddedS3;
  let validator: ServiceProcess;
  let caller: INestApplicationContext;
  let rpc: RpcClient;
  let connection: ChannelModel;
  let db: pg.Client;
  let realJob: DatasetUploadedData;
  /** Every job, as the admin must see them: newest queued first, then by id. */
  let expected: { jobId: string; status: string; queuedAt: string }[] = [];

  /** `actor` null: a call on nobody's behalf. */
  const list = (payload: Record<string, unknown>, actor: RpcActor | null = ADMIN): Promise<Page> =>
    rpc.call<Page>('validator', ValidatorAdminRpc.List, payload, actor ? { actor } : {});

  beforeAll(async () => {
    build();
    s3 = await startEmbeddedS3();
    const env = testEnv(ns, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: `va-${ns}` });
    validator = new ServiceProcess('validator', await freePort(), env);
    await validator.start();

    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    rpc = caller.get(RpcClient);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();

    // The real job: an image and its manifest in S3, announced as `upload` does.
    const storage = new ObjectStorage(loadEnv(StorageEnv, env));
    const image = png({ width: 64, height: 64 });
    const manifest = Buffer.from(`filename,label,sha256\na.png,normal,${createHash('sha256').update(image).digest('hex')}\n`);
    const datasetId = randomUUID();
    const files = [
      { filename: 'a.png', contentType: 'image/png', content: image },
      { filename: 'manifest.csv', contentType: 'text/csv', content: manifest },
    ].map((f) => ({ ...f, fileId: randomUUID() }));
    realJob = {
      datasetId,
      jobId: randomUUID(),
      teamId: teams[0]!,
      profile: 'xray',
      options: {},
      queuedAt: new Date(Date.now() - 1000).toISOString(),
      files: files.map((f) => ({ fileId: f.fileId, filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length, key: `datasets/${datasetId}/${f.fileId}/${f.filename}` })),
    };
    for (const [i, f] of files.entries()) await storage.putObject(realJob.files[i]!.key, f.content, f.contentType);
    connection = await amqp.connect(TEST_AMQP_URL);
    const channel = await connection.createChannel();
    const envelope: EventEnvelope<DatasetUploadedData> = {
      id: randomUUID(),
      type: DatasetEvents.Uploaded,
      occurredAt: new Date().toISOString(),
      source: 'upload',
      correlationId: randomUUID(),
      data: realJob,
    };
    const signed = signedEvent(envelope);
    channel.publish(topologyNames(naming, 'validator').eventsExchange, DatasetEvents.Uploaded, signed.content, { persistent: true, ...signed.options });
    await waitFor(
      async () => (await db.query(`SELECT 1 FROM "${schema}".jobs WHERE id = $1 AND status = 'passed'`, [realJob.jobId])).rowCount === 1,
      { what: 'the real job to pass' },
    );

    // Written directly: every status, older than the real job, two of them queued at the same instant.
    const base = Date.now() - 3_600_000;
    const tie = new Date(base + 5000).toISOString();
    const rows = [
      { status: 'queued', at: new Date(base + 9000).toISOString(), attempts: 0, error: null },
      { status: 'running', at: new Date(base + 8000).toISOString(), attempts: 1, error: null },
      { status: 'failed', at: new Date(base + 7000).toISOString(), attempts: 1, error: null },
      { status: 'error', at: new Date(base + 6000).toISOString(), attempts: 3, error: 'object storage is not reachable' },
      { status: 'failed', at: tie, attempts: 1, error: null },
      { status: 'passed', at: tie, attempts: 1, error: null },
      { status: 'passed', at: new Date(base + 1000).toISOString(), attempts: 2, error: null },
    ].map((r, i) => ({ ...r, jobId: randomUUID(), datasetId: randomUUID(), teamId: teams[i % 2]! }));
    for (const r of rows) {
      const finished = ['passed', 'failed', 'error'].includes(r.status);
      await db.query(
        `INSERT INTO "${schema}".jobs (id, dataset_id, team_id, profile, options, files, status, files_total, bytes_total, errors, warnings, attempts, last_error, queued_at, started_at, finished_at)
         VALUES ($1, $2, $3, 'xray', '{}', '[]', $4, 1, 10, $5, 1, $6, $7, $8, $9, $10)`,
        [r.jobId, r.datasetId, r.teamId, r.status, r.status === 'failed' ? 2 : 0, r.attempts, r.error, r.at,
          r.status === 'queued' ? null : new Date(Date.parse(r.at) + 100).toISOString(), finished ? new Date(Date.parse(r.at) + 200).toISOString() : null],
      );
    }
    expected = [{ jobId: realJob.jobId, status: 'passed', queuedAt: realJob.queuedAt }, ...rows.map((r) => ({ jobId: r.jobId, status: r.status, queuedAt: r.at }))].sort(
      (a, b) => (a.queuedAt === b.queuedAt ? (a.jobId < b.jobId ? 1 : -1) : a.queuedAt < b.queuedAt ? 1 : -1),
    );
  });

  afterAll(async () => {
    await caller?.close();
    await validator?.stop();
    await connection?.close().catch(() => undefined);
    await db?.end();
    await s3?.close();
    const r = [topologyResources(naming, 'validator', 'validator'), topologyResources(naming, 'test-caller')];
    await deleteAmqp([...new Set(r.flatMap((x) => x.queues))], [...new Set(r.flatMap((x) => x.exchanges))]);
    await dropSchemas(ns);
  });

  it('lists every team\'s jobs with their figures, newest queued first', async () => {
    const page = await list({});
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((i) => i.jobId)).toEqual(expected.map((e) => e.jobId));
    expect(new Set(page.items.map((i) => i.teamId))).toEqual(new Set(teams));
    const real = page.items.find((i) => i.jobId === realJob.jobId)!;
    expect(real).toMatchObject({
      datasetId: realJob.datasetId,
      teamId: teams[0],
      status: 'passed',
      queuedAt: realJob.queuedAt,
      summary: { errors: 0, warnings: 0 },
      attempts: 1,
      lastError: null,
    });
    expect(Date.parse(real.startedAt!)).toBeGreaterThanOrEqual(Date.parse(real.queuedAt));
    expect(Date.parse(real.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(real.startedAt!));
    const failedOne = page.items.find((i) => i.status === 'error')!;
    expect(failedOne).toMatchObject({ attempts: 3, lastError: 'object storage is not reachable', summary: { errors: 0, warnings: 1 } });
    const queued = page.items.find((i) => i.status === 'queued')!;
    expect(queued).toMatchObject({ startedAt: null, finishedAt: null, attempts: 0 });
  });

  it('pages with a cursor by (queued_at, id), ties included, each job once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.jobId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected.map((e) => e.jobId));
  });

  it('filters by status', async () => {
    const failed = await list({ status: 'failed', limit: 1 });
    expect(failed.items).toHaveLength(1);
    const rest = await list({ status: 'failed', cursor: failed.nextCursor });
    expect([...failed.items, ...rest.items].map((i) => i.jobId)).toEqual(expected.filter((e) => e.status === 'failed').map((e) => e.jobId));
    expect(rest.nextCursor).toBeNull();
    expect((await list({ status: 'passed' })).items.map((i) => i.jobId)).toEqual(expected.filter((e) => e.status === 'passed').map((e) => e.jobId));
  });

  it('counts jobs per status, every status listed', async () => {
    expect(await rpc.call('validator', ValidatorAdminRpc.Counts, {}, { actor: ADMIN })).toEqual({
      byStatus: { queued: 1, running: 1, passed: 3, failed: 2, error: 1 },
    });
  });

  it('answers FORBIDDEN to anyone but an administrator and VALIDATION to a bad request', async () => {
    await expect(list({}, MEMBER)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(list({}, null)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rpc.call('validator', ValidatorAdminRpc.Counts, {}, { actor: MEMBER })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(list({ status: 'done' })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(list({ limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(list({ teamId: teams[0] })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('validator.status: the job to its team and administrators, null while a dataset has no job yet, NOT_FOUND to another team', async () => {
    const status = (datasetId: string, actor: RpcActor | null) => rpc.call<{ status: { jobId: string; status: string } } | null>('validator', ValidatorRpc.Status, { datasetId }, actor ? { actor } : {});
    const owner: RpcActor = { userId: randomUUID(), role: 'member', teamId: teams[0]! };
    expect((await status(realJob.datasetId, owner))?.status).toMatchObject({ jobId: realJob.jobId, status: 'passed' });
    expect((await status(realJob.datasetId, ADMIN))?.status).toMatchObject({ jobId: realJob.jobId });
    expect(await status(randomUUID(), owner)).toBeNull();
    await expect(status(realJob.datasetId, MEMBER)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(status(realJob.datasetId, null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
