import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { nifti } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { putFiles, startUpload, waitForVerdict, type LocalFile, type ValidationStatusBody } from '../e2e/support/datasets.js';
import { report, ServiceDb } from './support/chaos.js';

/**
 * RELIABILITY.md: `validator` killed mid-job — the job is redelivered and finishes; one
 * result per job.
 */
const DATASETS = 4;
const VOLUMES = 8;

function dataset(seed: number): LocalFile[] {
  const volumes = Array.from({ length: VOLUMES }, (_, i) => ({ filename: `volume-${i}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 48, seed: seed * 100 + i }) }));
  const rows = volumes.map((v) => `${v.filename},normal,${createHash('sha256').update(v.content).digest('hex')}`);
  return [...volumes, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

describe('fault: validator SIGKILLed mid-job', () => {
  const platform = new Platform({ VALIDATION_LEASE_MS: '3000', VALIDATION_PROGRESS_INTERVAL_MS: '50', VALIDATION_RETRY_DELAY_MS: '500', RATE_LIMIT_PER_USER: '100000' }, ['gateway', 'upload', 'validator']);
  let token: string;
  let jobs: ServiceDb;
  let uploads: ServiceDb;

  beforeAll(async () => {
    await platform.start();
    token = await platform.api.login(ADMIN.email, ADMIN.password);
    const admin = token;
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'scanners' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'scan@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('scan@chaos.test', 'member-password-123');
    jobs = await ServiceDb.open(platform.namespace, 'validation');
    uploads = await ServiceDb.open(platform.namespace, 'upload');
  }, 120_000);

  afterAll(async () => {
    await jobs?.close();
    await uploads?.close();
    await platform.stop();
  });

  it('redelivers the jobs it held, finishes each once, with one result each', async () => {
    const ids: string[] = [];
    for (let i = 0; i < DATASETS; i++) {
      const files = dataset(i);
      const start = await startUpload(platform.api, token, `volumes-${i}`, 'xray', files);
      await putFiles(start, files);
      ids.push(start.datasetId);
    }
    const jobIds: string[] = [];
    for (const datasetId of ids) {
      const res = await platform.api.request<{ validationJobId: string }>('POST', '/api/v1/upload/complete', { token, body: { datasetId } });
      expect(res.status).toBe(202);
      jobIds.push(res.body.validationJobId);
    }
    // Kill it with a job part-way through.
    const atKill = await waitFor(
      async () => {
        const rows = await jobs.rows<{ id: string; status: string; files_checked: number; files_total: number }>('SELECT id, status, files_checked, files_total FROM jobs');
        return rows.some((r) => r.status === 'running' && r.files_checked > 0 && r.files_checked < r.files_total) ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20, what: 'a job part-way through' },
    );
    await platform.service('validator').kill();
    const running = atKill.filter((r) => r.status === 'running');
    await platform.service('validator').start();

    const verdicts: ValidationStatusBody[] = [];
    for (const datasetId of ids) verdicts.push(await waitForVerdict(platform.api, token, datasetId, 180_000));
    await new Promise((r) => setTimeout(r, 2000)); // a late duplicate result would show now

    const rows = await jobs.rows<{ id: string; status: string; attempts: number; errors: number; warnings: number; last_error: string | null }>('SELECT id, status, attempts, errors, warnings, last_error FROM jobs');
    const results = await jobs.rows<{ job: string; n: string }>(`SELECT envelope->'data'->>'jobId' AS job, count(*) AS n FROM outbox WHERE type = 'validation.completed' GROUP BY 1`);
    // Rows the killed validator's relay had claimed wait out its lease (30 s) before the new one
    // publishes them (a duplicate at worst, never a loss), so they may trail the verdicts.
    const countUnpublished = (): Promise<number> => jobs.scalar('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
    await waitFor(async () => ((await countUnpublished()) === 0 ? true : undefined), { timeoutMs: 45_000, what: 'every outbox row published' }).catch(() => undefined);
    const unpublished = await countUnpublished();
    const issues = await jobs.rows<{ job_id: string; n: string }>('SELECT job_id, count(*) AS n FROM issues GROUP BY job_id');
    const datasets = await uploads.rows<{ id: string; status: string }>('SELECT id, status FROM datasets');
    const applied = await uploads.scalar(`SELECT count(*) AS n FROM processed_events WHERE type = 'validation.completed'`);
    const resultsPerJob = Object.fromEntries(results.map((r) => [r.job, Number(r.n)]));
    const duplicated = results.reduce((n, r) => n + Number(r.n) - 1, 0);

    report(
      'validator SIGKILL mid-job',
      {
        sent: jobIds.length,
        found: verdicts.filter((v) => v.status === 'passed').length,
        duplicated,
        errors: rows.filter((r) => r.last_error).length,
        'running at the kill': running.length,
        'unpublished results': unpublished,
      },
      [
        `at the kill: ${atKill.map((r) => `${r.status} ${r.files_checked}/${r.files_total}`).join(', ')}`,
        `attempts per job: ${rows.map((r) => r.attempts).join(', ')}; results per job: ${jobIds.map((j) => resultsPerJob[j] ?? 0).join(', ')}; issue rows per job: ${jobIds.map((j) => issues.find((i) => i.job_id === j)?.n ?? 0).join(', ')}`,
        `datasets: ${datasets.map((d) => d.status).join(', ')}; results applied by upload: ${applied}; last errors: ${JSON.stringify(rows.map((r) => r.last_error).filter(Boolean))}`,
      ],
    );
    expect(running.length).toBeGreaterThan(0);
    expect(verdicts.map((v) => v.status)).toEqual(ids.map(() => 'passed'));
    expect(jobIds.map((j) => resultsPerJob[j] ?? 0)).toEqual(jobIds.map(() => 1));
    expect(unpublished).toBe(0);
    expect(issues).toEqual([]); // all passed, so no issue rows, and none written twice
    for (const r of running) expect(rows.find((j) => j.id === r.id)!.attempts).toBeGreaterThanOrEqual(2);
    expect(datasets.map((d) => d.status)).toEqual(ids.map(() => 'passed'));
    expect(applied).toBe(jobIds.length);
  });
});
