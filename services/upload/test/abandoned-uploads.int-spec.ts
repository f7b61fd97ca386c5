import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadEnv, Naming } from '@flotilla/config';
import type { MultipartTarget, RpcActor, SinglePutTarget } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import {
  listMultipartUploads,
  ObjectStorage,
  putAbortIncompleteMultipartRule,
  startEmbeddedS3,
  StorageEnv,
  type EmbeddedS3,
} from '@flotilla/storage';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { StorageSweep } from '../src/datasets/storage-sweep.js';
import { UploadCompleteService } from '../src/datasets/upload-complete.service.js';
import { UploadStartService } from '../src/datasets/upload-start.service.js';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

/**
 * Abandoned uploads against real Postgres and the embedded S3: once a session's URLs
 * expired (and the grace after), the sweep aborts its multipart uploads — gone from the
 * store's ListMultipartUploads, not only from the rows — and deletes its objects; two
 * sweeps at once (two replicas) each take a dataset once.
 */
describe('upload: abandoned uploads are aborted and cleared', () => {
  const ns = uniqueNamespace();
  const schema = new Naming(ns).schema('upload');
  const savedEnv = { ...process.env };
  let s3: EmbeddedS3;
  let storage: ObjectStorage;
  let app: INestApplicationContext;
  let db: pg.Client;

  /** A dataset with a 6 MiB multipart file (part 1 sent) and a single-PUT file (sent). */
  async function halfUploaded(): Promise<{ id: string; uploadId: string }> {
    const started = await app.get(UploadStartService).start(
      {
        datasetName: `ds-${randomUUID().slice(0, 8)}`,
        profile: 'xray',
        files: [
          { filename: 'big.png', contentType: 'image/png', sizeBytes: 6 * MiB },
          { filename: 'small.png', contentType: 'image/png', sizeBytes: 100 },
        ],
      },
      MEMBER,
    );
    const big = started.files.find((f) => f.filename === 'big.png') as MultipartTarget;
    const small = started.files.find((f) => f.filename === 'small.png') as SinglePutTarget;
    const part = big.multipart.parts[0]!;
    expect((await fetch(part.uploadUrl, { method: 'PUT', body: Buffer.alloc(part.sizeBytes, 1) })).status).toBe(200);
    expect((await fetch(small.uploadUrl, { method: 'PUT', headers: small.headers, body: Buffer.alloc(100, 2) })).status).toBe(200);
    return { id: started.datasetId, uploadId: big.multipart.uploadId };
  }

  const expire = (id: string, ago: string): Promise<unknown> => db.query(`UPDATE "${schema}".datasets SET upload_expires_at = now() - $2::interval WHERE id = $1`, [id, ago]);
  const openUploads = async (id: string): Promise<string[]> => (await listMultipartUploads(storage, `datasets/${id}/`)).map((u) => u.uploadId);
  const objects = async (id: string): Promise<number> => (await storage.list(`datasets/${id}/`)).length;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    const env = testEnv(ns, {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: `up-${ns}`,
      UPLOAD_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      UPLOAD_PART_SIZE_BYTES: String(5 * MiB),
      UPLOAD_EXPIRY_GRACE_SECONDS: '900',
    });
    storage = new ObjectStorage(loadEnv(StorageEnv, env));
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await s3?.close();
    const resources = topologyResources(new Naming(ns), 'upload', 'upload');
    await deleteAmqp(resources.queues, resources.exchanges);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });

  it('aborts the multipart upload of an expired session and removes its objects; a live or just-expired one stays', async () => {
    const expired = await halfUploaded();
    const live = await halfUploaded();
    const inGrace = await halfUploaded();
    await expire(expired.id, '1 hour');
    await expire(inGrace.id, '1 minute');
    // What the store holds before: the test would prove nothing otherwise.
    expect(await openUploads(expired.id)).toEqual([expired.uploadId]);
    expect(await objects(expired.id)).toBe(1);

    const result = await app.get(StorageSweep).sweep();
    expect(result.uploadsCleared).toBe(1);
    expect(await openUploads(expired.id)).toEqual([]);
    expect(await objects(expired.id)).toBe(0);
    for (const kept of [live, inGrace]) {
      expect(await openUploads(kept.id)).toEqual([kept.uploadId]);
      expect(await objects(kept.id)).toBe(1);
    }
    const [row] = (await db.query(`SELECT status, upload_cleared_at FROM "${schema}".datasets WHERE id = $1`, [expired.id])).rows as { status: string; upload_cleared_at: Date | null }[];
    expect(row!.status).toBe('pending');
    expect(row!.upload_cleared_at).toBeInstanceOf(Date);
    expect((await app.get(StorageSweep).sweep()).uploadsCleared).toBe(0);
    // A completion arriving now queues nothing: the objects were removed.
    await expect(app.get(UploadCompleteService).complete({ datasetId: expired.id }, MEMBER)).rejects.toMatchObject({ code: 'UNPROCESSABLE', message: expect.stringMatching(/expired/) });
    const [after] = (await db.query(`SELECT status, job_id FROM "${schema}".datasets WHERE id = $1`, [expired.id])).rows as { status: string; job_id: string | null }[];
    expect(after).toEqual({ status: 'pending', job_id: null });
  });

  it('two sweeps at once (two replicas) clear each expired upload exactly once', async () => {
    const expired = await Promise.all([halfUploaded(), halfUploaded(), halfUploaded(), halfUploaded()]);
    for (const d of expired) await expire(d.id, '2 hours');
    const sweep = app.get(StorageSweep);
    const [a, b] = await Promise.all([sweep.sweep(), sweep.sweep()]);
    expect(a.uploadsCleared + b.uploadsCleared).toBe(expired.length);
    for (const d of expired) {
      expect(await openUploads(d.id)).toEqual([]);
      expect(await objects(d.id)).toBe(0);
    }
  });

  it('signs a declared sha256 into the PUT URL, as a header the client must send (what it binds: libs/storage\'s object-integrity test)', async () => {
    const content = Buffer.from('the declared bytes');
    const hex = createHash('sha256').update(content).digest('hex');
    const started = await app.get(UploadStartService).start(
      {
        datasetName: 'checksummed',
        profile: 'xray',
        files: [
          { filename: 'a.png', contentType: 'image/png', sizeBytes: content.length, sha256: hex },
          { filename: 'b.png', contentType: 'image/png', sizeBytes: content.length },
        ],
      },
      MEMBER,
    );
    const [declared, undeclared] = started.files as SinglePutTarget[];
    expect(declared!.headers).toEqual({ 'content-type': 'image/png', 'x-amz-checksum-sha256': Buffer.from(hex, 'hex').toString('base64') });
    expect(new URL(declared!.uploadUrl).searchParams.get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host', 'x-amz-checksum-sha256']);
    expect(undeclared!.headers).toEqual({ 'content-type': 'image/png' });
  });

  it('the embedded store has no lifecycle rules: the rule is reported as not applied, not thrown', async () => {
    expect(await putAbortIncompleteMultipartRule(storage, 8)).toBe(false);
  });
});
