import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nifti, png } from '@flotilla/samples';
import { startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { freePort, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { putFiles, startUpload, waitForVerdict, type LocalFile } from '../e2e/support/datasets.js';
import { report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: S3 stopped for 3 minutes during validation — jobs wait it out and pass
 * afterwards; no attempt used up by the outage. The validator's retries (3 attempts, 1 s
 * apart) run out many times over within the outage, so only failures that are known as
 * "S3 is not reachable" and cost no attempt let the jobs pass. The S3 is the test's own
 * (its objects kept on disk), stopped and started again on the same port.
 */
const OUTAGE_MS = 180_000;
const MAX_ATTEMPTS = 3;
const DATASETS = 4;

/** A dataset that takes a few seconds to validate, so it is validating when S3 goes. */
function heavyFiles(seed: number): LocalFile[] {
  const volumes = Array.from({ length: 8 }, (_, v) => ({ filename: `volume-${v}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 48, seed: seed * 10 + v }) }));
  const rows = volumes.map((v) => `${v.filename},normal,${createHash('sha256').update(v.content).digest('hex')}`);
  return [...volumes, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

function lightFiles(i: number): LocalFile[] {
  const image = { filename: `scan-${i}.png`, contentType: 'image/png', content: png({ width: 64 + i, height: 64 }) };
  return [image, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${image.filename},normal\n`) }];
}

describe('fault: S3 stopped for 3 minutes during validation', () => {
  const directory = mkdtempSync(join(tmpdir(), 'flotilla-chaos-s3-'));
  let port: number;
  let s3: EmbeddedS3 | undefined;
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    port = await freePort();
    s3 = await startEmbeddedS3({ port, directory });
    platform = new Platform(
      { S3_ENDPOINT: s3.endpoint, VALIDATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS), VALIDATION_RETRY_DELAY_MS: '1000', RATE_LIMIT_PER_USER: '100000' },
      ['gateway', 'upload', 'validator'],
    );
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'stored' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 's@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('s@chaos.test', 'member-password-123');
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    await s3?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('jobs wait the outage out and pass after it, with no attempt used up', async () => {
    // Uploaded while S3 is up; completed so that the heavy ones validate when it goes,
    // and the light ones are queued behind them.
    const ids: string[] = [];
    for (let i = 0; i < DATASETS; i++) {
      const files = i < 2 ? heavyFiles(i) : lightFiles(i);
      const start = await startUpload(platform.api, token, `s3-${i}`, 'xray', files);
      await putFiles(start, files);
      ids.push(start.datasetId);
    }
    const completed: number[] = [];
    for (const datasetId of ids) completed.push((await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId } })).status);
    expect(completed.every((s) => s === 202 || s === 200)).toBe(true);

    const validation = await ServiceDb.open(platform.namespace, 'validation');
    let stoppedFor = 0;
    const seenDuring = new Set<string>();
    try {
      await waitFor(async () => (await validation.scalar(`SELECT count(*) AS n FROM jobs WHERE status = 'running' AND files_checked < files_total`)) > 0, {
        timeoutMs: 60_000,
        intervalMs: 20,
        what: 'a job validating',
      });
      const stoppedAt = Date.now();
      await s3!.close();
      s3 = undefined;
      try {
        while (Date.now() - stoppedAt < OUTAGE_MS) {
          for (const r of await validation.rows<{ status: string; attempts: number }>('SELECT status, attempts FROM jobs')) seenDuring.add(`${r.status}/${r.attempts}`);
          await sleep(5000);
        }
      } finally {
        s3 = await startEmbeddedS3({ port, directory });
        stoppedFor = Date.now() - stoppedAt;
      }
    } finally {
      await validation.close();
    }

    const verdicts: string[] = [];
    for (const id of ids) verdicts.push(await waitForVerdict(platform.api, token, id, 180_000).then((v) => v.status, (error: Error) => `unfinished (${error.message.slice(0, 200)})`));
    const db = await ServiceDb.open(platform.namespace, 'validation');
    try {
      const jobs = await db.rows<{ status: string; attempts: number; last_error: string | null }>('SELECT status, attempts, last_error FROM jobs ORDER BY queued_at');
      const results = await db.rows<{ job: string; n: string }>(`SELECT envelope->'data'->>'jobId' AS job, count(*) AS n FROM outbox WHERE type = 'validation.completed' GROUP BY 1`);
      const reruns = jobs.reduce((n, j) => n + Math.max(0, j.attempts - 1), 0);
      const extraResults = results.reduce((n, r) => n + Number(r.n) - 1, 0);
      report(
        `S3 stopped for ${(stoppedFor / 1000).toFixed(1)} s during validation (the test's own embedded S3)`,
        {
          sent: ids.length,
          found: verdicts.filter((v) => v === 'passed').length,
          duplicated: extraResults,
          errors: jobs.filter((j) => j.status !== 'passed').length,
          'attempts used beyond the first': reruns,
        },
        [`verdicts ${verdicts.join(', ')}; jobs ${JSON.stringify(jobs)}; job states seen during the outage (status/attempts): ${[...seenDuring].join(', ')}`],
      );
      expect(verdicts).toEqual(ids.map(() => 'passed'));
      expect(jobs.map((j) => j.attempts)).toEqual(ids.map(() => 1));
      expect(extraResults).toBe(0);
      expect(results.length).toBe(ids.length);
    } finally {
      await db.close();
    }
  });
});
