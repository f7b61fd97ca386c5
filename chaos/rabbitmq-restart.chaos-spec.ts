import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { nifti, png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { putFiles, startUpload, type LocalFile } from '../e2e/support/datasets.js';
import { rabbitmq, readiness, report, ServiceDb, sleep, tally, Wiretap } from './support/chaos.js';

/**
 * RELIABILITY.md: RabbitMQ restarted while datasets are completed and validated — every
 * completed dataset reaches a final status; no event lost (outbox) or applied twice.
 * The suite's own node is stopped (rabbitmqctl stop) and started again. Duplicates are
 * counted where they could show: every event as it crossed the broker (a durable queue
 * of the test's, bound to everything), each job's runs, each job's results.
 */
const DATASETS = 24;
const DOWN_MS = 12_000;
const FINAL = ['passed', 'failed', 'error'];

/** Datasets big enough to be validating when the broker stops: their results wait in the outbox. */
const HEAVY = 2;
function heavyFiles(i: number): LocalFile[] {
  const volumes = Array.from({ length: 6 }, (_, v) => ({ filename: `volume-${v}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 48, seed: i * 10 + v }) }));
  const rows = volumes.map((v) => `${v.filename},normal,${createHash('sha256').update(v.content).digest('hex')}`);
  return [...volumes, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

function files(i: number): LocalFile[] {
  const image = { filename: `scan-${i}.png`, contentType: 'image/png', content: png({ width: 64 + i, height: 64 }) };
  return [image, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${image.filename},normal\n`) }];
}

describe('fault: RabbitMQ restarted while datasets are completed and validated', () => {
  const platform = new Platform({ RATE_LIMIT_PER_USER: '100000', VALIDATION_RETRY_DELAY_MS: '500', RPC_TIMEOUT_MS: '3000' }, ['gateway', 'upload', 'validator']);
  let token: string;
  let upload: ServiceDb;
  let validation: ServiceDb;
  let wiretap: Wiretap;

  beforeAll(async () => {
    await platform.start();
    wiretap = await Wiretap.open(platform.namespace);
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'brokers' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'b@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('b@chaos.test', 'member-password-123');
    upload = await ServiceDb.open(platform.namespace, 'upload');
    validation = await ServiceDb.open(platform.namespace, 'validation');
  }, 120_000);

  afterAll(async () => {
    await upload?.close();
    await validation?.close();
    await platform.stop();
  });

  it('brings every completed dataset to a final status, each event published and applied once', async () => {
    // Everything uploaded first (S3 needs no broker); completing is what meets the outage.
    const ids: string[] = [];
    for (let i = 0; i < DATASETS; i++) {
      const f = files(i);
      const start = await startUpload(platform.api, token, `broker-${i}`, 'xray', f);
      await putFiles(start, f);
      ids.push(start.datasetId);
    }
    const heavy: string[] = [];
    for (let i = 0; i < HEAVY; i++) {
      const f = heavyFiles(i);
      const start = await startUpload(platform.api, token, `heavy-${i}`, 'xray', f);
      await putFiles(start, f);
      heavy.push(start.datasetId);
    }
    const completed = new Map<string, string>();
    const refused = new Map<number, number>();
    let stoppedAt = 0;
    let startedAt = 0;
    const readyDuring: string[] = [];
    let stopped = false;

    const complete = async (datasetId: string): Promise<void> => {
      // As a client does: retry until the platform takes it.
      for (;;) {
        const res = await platform.api.request<{ validationJobId: string }>('POST', '/api/v1/upload/complete', { token, body: { datasetId } }).catch(() => ({ status: 0, body: { validationJobId: '' } }));
        if (res.status === 202 || res.status === 200) {
          completed.set(datasetId, res.body.validationJobId);
          return;
        }
        refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
        await sleep(500);
      }
    };

    try {
      const clients = ids.map(async (id, i) => {
        await sleep(i * 700); // a steady stream of completions across the outage
        await complete(id);
      });
      await sleep(DATASETS * 700 * 0.3);
      // The heavy ones are validating when the broker goes.
      await Promise.all(heavy.map((id) => complete(id)));
      await waitFor(async () => (await validation.scalar(`SELECT count(*) AS n FROM jobs WHERE status = 'running'`)) > 0, { intervalMs: 20, what: 'a job running' });
      stopped = true;
      stoppedAt = Date.now();
      await rabbitmq.stop();
      for (const [name, svc] of [['gateway', platform.gateway], ['upload', platform.service('upload')], ['validator', platform.service('validator')]] as const) {
        const r = await readiness(svc.url);
        readyDuring.push(`${name} ${r.status}${r.down.length ? ` (${r.down.join(', ')})` : ''}`);
      }
      await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
      await rabbitmq.start();
      stopped = false;
      startedAt = Date.now();
      await Promise.all(clients);
    } finally {
      if (stopped) await rabbitmq.start();
    }

    const statuses = await waitFor(
      async () => {
        const rows = await upload.rows<{ id: string; status: string }>('SELECT id, status FROM datasets');
        return rows.length === DATASETS + HEAVY && rows.every((r) => FINAL.includes(r.status)) ? rows : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every dataset to reach a final status' },
    );
    await sleep(2000); // a late duplicate would land now
    const uploadedEvents = await upload.rows<{ job: string; n: string; unpublished: string }>(
      `SELECT envelope->'data'->>'jobId' AS job, count(*) AS n, count(*) FILTER (WHERE published_at IS NULL) AS unpublished FROM outbox WHERE type = 'dataset.uploaded' GROUP BY 1`,
    );
    const completedEvents = await validation.rows<{ job: string; n: string; unpublished: string }>(
      `SELECT envelope->'data'->>'jobId' AS job, count(*) AS n, count(*) FILTER (WHERE published_at IS NULL) AS unpublished FROM outbox WHERE type = 'validation.completed' GROUP BY 1`,
    );
    // What crossed the broker, per job: more than one event for a job is a duplicate; the
    // same event twice is a redelivery, which the consumers' processed_events absorb.
    const tapped = await wiretap.drain();
    const jobOf = (data: Record<string, unknown>): string => String(data.jobId);
    const wireUploaded = tally(tapped, 'dataset.uploaded', jobOf);
    const wireCompleted = tally(tapped, 'validation.completed', jobOf);
    const jobs = await validation.rows<{ id: string; status: string; attempts: number }>('SELECT id, status, attempts FROM jobs');
    // A job run more than once shows in its attempts; a result recorded twice, in the outbox.
    const reruns = jobs.reduce((n, j) => n + Math.max(0, j.attempts - 1), 0);
    const lostUploaded = [...completed.values()].filter((j) => !uploadedEvents.some((e) => e.job === j)).length;
    const outboxDuplicates = [...uploadedEvents, ...completedEvents].reduce((n, e) => n + Number(e.n) - 1, 0);
    const duplicated = outboxDuplicates + wireUploaded.duplicated + wireCompleted.duplicated + reruns;
    const unpublished = [...uploadedEvents, ...completedEvents].reduce((n, e) => n + Number(e.unpublished), 0);
    const waited = await validation.scalar(`SELECT count(*) AS n FROM outbox WHERE created_at BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)`, [stoppedAt, startedAt]);
    const mismatched = statuses.filter((d) => jobs.find((j) => j.id === completed.get(d.id))?.status !== d.status).length;

    report(
      `RabbitMQ stopped for ${((startedAt - stoppedAt) / 1000).toFixed(1)} s (the suite's own node: rabbitmqctl stop, then started again)`,
      {
        sent: DATASETS + HEAVY,
        found: statuses.length,
        duplicated,
        errors: [...refused.values()].reduce((a, b) => a + b, 0),
        'lost events': lostUploaded + (completed.size - completedEvents.length),
        'jobs run twice': reruns,
        'events delivered again (same id)': wireUploaded.copies + wireCompleted.copies,
        unpublished,
        'dataset ≠ job status': mismatched,
        'events that waited out the outage in the outbox': waited,
      },
      [
        `completions refused while it was down, by status: ${JSON.stringify(Object.fromEntries(refused))} (retried by the client until taken)`,
        `readiness while down: ${readyDuring.join('; ')}`,
        `final statuses: ${JSON.stringify(statuses.reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.status]: (acc[d.status] ?? 0) + 1 }), {}))}; ` +
          `job attempts: ${JSON.stringify(jobs.reduce<Record<number, number>>((acc, j) => ({ ...acc, [j.attempts]: (acc[j.attempts] ?? 0) + 1 }), {}))}`,
        `dataset.uploaded: ${uploadedEvents.length} jobs in upload's outbox, ${wireUploaded.events} events for ${wireUploaded.keys} jobs on the broker; ` +
          `validation.completed: ${completedEvents.length} jobs in validator's outbox, ${wireCompleted.events} events for ${wireCompleted.keys} jobs on the broker`,
      ],
    );
    expect(completed.size).toBe(DATASETS + HEAVY);
    expect(statuses.every((s) => s.status === 'passed')).toBe(true);
    expect(jobs.every((j) => j.attempts === 1)).toBe(true); // no job run twice
    expect([lostUploaded, duplicated, unpublished, mismatched]).toEqual([0, 0, 0, 0]);
    expect([uploadedEvents.length, completedEvents.length, wireUploaded.keys, wireCompleted.keys]).toEqual(Array(4).fill(DATASETS + HEAVY));
    expect(readyDuring.every((r) => r.includes('503'))).toBe(true);
    for (const svc of [platform.gateway, platform.service('upload'), platform.service('validator')]) expect((await readiness(svc.url)).status).toBe(200);
  });
});
