import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { decodeStatusSnapshot, STATUS_SNAPSHOT_DELETED, statusSnapshotKey, type ValidationStatus } from '@flotilla/contracts';
import { waitUntilReady } from '@flotilla/messaging';
import type { ObjectStorage } from '@flotilla/storage';
import { deleteKeys, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { StatusSnapshots } from '../src/jobs/status-snapshots.js';
import type { ValidatorEnv } from '../src/validator.env.js';

/** The validator's side of the status read model, against a real Redis (S3 presigning counted, not done). */
describe('StatusSnapshots', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const env = { REDIS_URL: TEST_REDIS_URL, REPORT_URL_TTL_SECONDS: 300 } as ValidatorEnv;
  let presigned = 0;
  const storage = {
    presignGet: async (key: string) => ({ url: `http://s3.test/${key}?signature=${++presigned}`, expiresAt: '' }),
  } as unknown as ObjectStorage;
  let redis: Redis;
  let snapshots: StatusSnapshots;

  const status = (datasetId: string, state: ValidationStatus['status']): ValidationStatus => ({
    datasetId,
    jobId: `job-${datasetId}`,
    status: state,
    progress: { filesTotal: 1, filesChecked: 1, bytesTotal: 1, bytesChecked: 1, percent: 100 },
    queuedAt: '2026-01-01T00:00:00.000Z',
    summary: { errors: 0, warnings: 0 },
    issues: [],
  });

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    snapshots = new StatusSnapshots(storage, naming, env);
    // Its connection fails fast until connected (no offline queue): let it connect first.
    expect(await waitUntilReady((snapshots as unknown as { redis: Redis }).redis, 5_000)).toBe(true);
  });

  afterAll(async () => {
    await snapshots.onApplicationShutdown();
    redis.disconnect();
    await deleteKeys(ns);
  });

  it('presigns a report link once and reuses it while half its lifetime is left', async () => {
    const now = Date.now();
    const first = await snapshots.reportUrl('j1', 'reports/d1/report.json', now);
    expect(await snapshots.reportUrl('j1', 'reports/d1/report.json', now + 150_000)).toEqual(first);
    const renewed = await snapshots.reportUrl('j1', 'reports/d1/report.json', now + 150_001);
    expect(renewed.url).not.toBe(first.url);
    expect(presigned).toBe(2);
  });

  it('keeps a settled status until its link would be renewed, with its team and version', async () => {
    const now = Date.now();
    await snapshots.publish('team-1', 'job-d2.4', { ...status('d2', 'passed'), reportUrl: 'http://s3.test/r' }, now + 300_000, now);
    const key = naming.key(statusSnapshotKey('d2'));
    expect(decodeStatusSnapshot((await redis.get(key))!)).toEqual({ teamId: 'team-1', version: 'job-d2.4', jobStatus: 'passed', statusJson: JSON.stringify({ ...status('d2', 'passed'), reportUrl: 'http://s3.test/r' }) });
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(140);
    expect(ttl).toBeLessThanOrEqual(150);
  });

  it('keeps nothing of a job that can still change', async () => {
    for (const [id, state] of [['d3', 'queued'], ['d4', 'running'], ['d5', 'error']] as const) {
      await snapshots.publish('team-1', `job-${id}.1`, status(id, state));
      expect(await redis.exists(naming.key(statusSnapshotKey(id)))).toBe(0);
    }
  });

  it("a deleted dataset's marker replaces its snapshot, and a late write does not bring it back", async () => {
    await snapshots.publish('team-1', 'job-d6.3', status('d6', 'failed'));
    await snapshots.forget('d6');
    await snapshots.publish('team-1', 'job-d6.3', status('d6', 'failed'));
    const key = naming.key(statusSnapshotKey('d6'));
    expect(await redis.get(key)).toBe(STATUS_SNAPSHOT_DELETED);
    expect(await redis.ttl(key)).toBeGreaterThan(86_000);
  });
});
