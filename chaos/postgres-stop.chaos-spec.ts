import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import { createHash, randomUUID } from 'node:crypto';
import { loadEnv, Naming } from '@flotilla/config';
import { DatasetEvents } from '@flotilla/contracts';
import { topologyNames } from '@flotilla/messaging';
import { nifti, png } from '@flotilla/samples';
import { ObjectStorage, StorageEnv } from '@flotilla/storage';
import { publishSigned, TEST_AMQP_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform, type ServiceName } from '../e2e/support/platform.js';
import { putFiles, startUpload, waitForVerdict, type LocalFile } from '../e2e/support/datasets.js';
import { postgres, readiness, report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: Postgres stopped for 10 s — readiness goes 503 and back; no crash
 * loop; work queued meanwhile finishes after. The test stops the suite's own cluster
 * (pg_ctl stop -m fast) and always starts it again.
 */
const DOWN_MS = 10_000;
const VOTERS = 20;
const SERVICES: ServiceName[] = ['gateway', 'vote-consumer', 'upload', 'validator', 'provisioner', 'admin'];

/** A dataset that takes a few seconds to validate, so it is validating when Postgres goes. */
function heavyFiles(seed: number, count = 12): LocalFile[] {
  const volumes = Array.from({ length: count }, (_, v) => ({ filename: `volume-${v}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 48, seed: seed * 10 + v }) }));
  const rows = volumes.map((v) => `${v.filename},normal,${createHash('sha256').update(v.content).digest('hex')}`);
  return [...volumes, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

function files(i: number): LocalFile[] {
  const image = { filename: `scan-${i}.png`, contentType: 'image/png', content: png({ width: 64 + i, height: 64 }) };
  return [image, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${image.filename},normal\n`) }];
}

describe('fault: Postgres stopped for 10 s', () => {
  // The validator's retries at their defaults (5 attempts, 5 s apart): longer than the outage.
  const platform = new Platform({ RATE_LIMIT_PER_USER: '100000', RATE_LIMIT_PER_IP: '10000000' }, SERVICES);
  // A validator whose retries (5 × 1 s) run out within the outage.
  const hurried = new Platform({ VALIDATION_RETRY_DELAY_MS: '1000', VALIDATION_PROGRESS_INTERVAL_MS: '50' }, ['gateway', 'validator']);
  let hurriedJob = '';
  const tokens: string[] = [];

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'durable' } });
    for (let i = 0; i < VOTERS; i++) {
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: `v${i}@chaos.test`, password: 'member-password-123', teamId: team.body.id, role: 'member' } });
      tokens.push(await platform.api.login(`v${i}@chaos.test`, 'member-password-123'));
    }
    // The gateway knows the poll before the outage, as it would in production.
    expect((await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token: tokens[0], body: { option: 'cats' } })).status).toBe(202);
    await hurried.start();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([platform.stop(), hurried.stop()]);
  });

  /**
   * A heavy dataset.uploaded for the hurried validator, its objects put in its S3 now, as
   * the upload service would; resolves with the function that publishes it, and its job id.
   */
  async function prepareHurriedJob(): Promise<{ jobId: string; publish: () => Promise<void> }> {
    const storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: hurried.s3!.endpoint, S3_BUCKET: `flotilla-${hurried.namespace}` }));
    const datasetId = randomUUID();
    const jobId = randomUUID();
    const list = heavyFiles(7, 12).map((f) => ({ ...f, fileId: randomUUID() }));
    const uploaded = list.map((f) => ({ fileId: f.fileId, filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length, key: `datasets/${datasetId}/${f.fileId}/${f.filename}` }));
    for (const [i, f] of list.entries()) await storage.putObject(uploaded[i]!.key, f.content, f.contentType);
    const publish = async (): Promise<void> => {
      const connection = await amqp.connect(TEST_AMQP_URL);
      try {
        const channel = await connection.createConfirmChannel();
        const envelope = { id: randomUUID(), type: DatasetEvents.Uploaded, occurredAt: new Date().toISOString(), source: 'upload', correlationId: randomUUID(), data: { datasetId, jobId, teamId: randomUUID(), profile: 'xray', options: {}, queuedAt: new Date().toISOString(), files: uploaded } };
        publishSigned(channel, topologyNames(new Naming(hurried.namespace), 'validator').eventsExchange, DatasetEvents.Uploaded, envelope, { persistent: true });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    };
    return { jobId, publish };
  }

  it('goes not ready and back without a restart, and finishes the work queued meanwhile', async () => {
    const token = tokens[0]!;
    // Work in hand when it stops: one dataset validating, others uploaded and completed during the outage.
    const waiting: string[] = [];
    const heavy = heavyFiles(1);
    const heavyStart = await startUpload(platform.api, token, 'heavy', 'xray', heavy);
    await putFiles(heavyStart, heavy);
    waiting.push(heavyStart.datasetId);
    for (let i = 0; i < 3; i++) {
      const f = files(i);
      const start = await startUpload(platform.api, token, `queued-${i}`, 'xray', f);
      await putFiles(start, f);
      waiting.push(start.datasetId);
    }
    const pids = Object.fromEntries(SERVICES.map((s) => [s, platform.service(s).pid]));
    const readinessSeen = new Map<string, string[]>(SERVICES.map((s) => [s, []]));
    const accepted = new Set<string>();
    const refusedVotes = new Map<number, number>();
    const acceptedDuring = new Set<string>();
    let down = false;
    let flowing = true;

    const watch = (async () => {
      while (flowing) {
        for (const s of SERVICES) {
          const r = await readiness(platform.service(s).url);
          const seen = readinessSeen.get(s)!;
          const now = `${r.status}${r.down.length ? `:${r.down.join('+')}` : ''}`;
          if (seen.at(-1) !== now) seen.push(now);
        }
        await sleep(300);
      }
    })();
    const voting = Promise.all(
      tokens.map(async (t, i) => {
        let n = 0;
        while (flowing) {
          const res = await platform.api.request<{ voteId: string }>('POST', '/api/v1/polls/cats-vs-dogs/votes', { token: t, body: { option: (i + n++) % 3 ? 'cats' : 'dogs' } }).catch(() => ({ status: 0, body: { voteId: '' } }));
          if (res.status === 202) {
            accepted.add(res.body.voteId);
            if (down) acceptedDuring.add(res.body.voteId);
          } else refusedVotes.set(res.status, (refusedVotes.get(res.status) ?? 0) + 1);
          await sleep(50);
        }
      }),
    );

    const completeStatuses: number[] = [];
    let stoppedFor = 0;
    const hurriedJobReady = await prepareHurriedJob();
    hurriedJob = hurriedJobReady.jobId;
    try {
      await sleep(1500);
      // Both heavy jobs start together, and Postgres stops while both run. The hurried job is
      // published once the completion answered: completing moves the files to their final
      // keys first, which can take longer than the hurried job itself.
      const firstComplete = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: waiting[0] } });
      expect(firstComplete.status).toBe(202);
      await hurriedJobReady.publish();
      const validation = await ServiceDb.open(platform.namespace, 'validation');
      const hurriedDb = await ServiceDb.open(hurried.namespace, 'validation');
      const running = `SELECT count(*) AS n FROM jobs WHERE status = 'running' AND files_checked < files_total`;
      try {
        await Promise.all([
          waitFor(async () => (await validation.scalar(running)) > 0, { timeoutMs: 60_000, intervalMs: 20, what: 'the heavy job running' }),
          waitFor(async () => (await hurriedDb.scalar(running)) > 0, { timeoutMs: 60_000, intervalMs: 20, what: 'the hurried job running' }),
        ]);
      } catch (error) {
        const rows = [await validation.rows('SELECT status, attempts, files_checked, files_total FROM jobs'), await hurriedDb.rows('SELECT status, attempts, files_checked, files_total FROM jobs')];
        throw new Error(`${(error as Error).message}; jobs ${JSON.stringify(rows)}`);
      } finally {
        await validation.close();
        await hurriedDb.close();
      }
      down = true;
      const stoppedAt = Date.now();
      await postgres.stop();
      await sleep(1500);
      // Completing during the outage: refused (the upload service cannot commit), retried after.
      for (const id of waiting.slice(1)) completeStatuses.push((await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: id } })).status);
      await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
      await postgres.start();
      stoppedFor = Date.now() - stoppedAt;
      down = false;
    } catch (error) {
      flowing = false;
      await Promise.all([voting, watch]);
      throw error;
    } finally {
      if (down) await postgres.start();
    }

    try {
      await waitFor(async () => {
        const all = await Promise.all(SERVICES.map((s) => readiness(platform.service(s).url)));
        return all.every((r) => r.status === 200);
      }, { timeoutMs: 60_000, intervalMs: 300, what: 'every service ready again' });
      await sleep(2000);
    } finally {
      flowing = false;
      await Promise.all([voting, watch]);
    }

    // The work: the rest completed now, every dataset reaches its verdict, every vote accepted is persisted once.
    for (const id of waiting.slice(1)) {
      const res = await waitFor(async () => {
        const r = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: id } });
        return r.status === 202 || r.status === 200 ? r : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500, what: 'a completion after the outage' });
      expect([200, 202]).toContain(res.status);
    }
    const verdicts: string[] = [];
    for (const id of waiting) {
      try {
        verdicts.push((await waitForVerdict(platform.api, token, id, 90_000)).status);
      } catch {
        verdicts.push(`unfinished (${JSON.stringify((await platform.api.request('GET', `/api/v1/validation/${id}/status`, { token })).body).slice(0, 300)})`);
      }
    }
    const jobRows = await ServiceDb.open(platform.namespace, 'validation').then(async (db) => {
      const rows = await db.rows<{ status: string; attempts: number; last_error: string | null }>('SELECT status, attempts, last_error FROM jobs ORDER BY queued_at');
      await db.close();
      return rows;
    });
    const datasetRows = await ServiceDb.open(platform.namespace, 'upload').then(async (db) => {
      const rows = await db.rows<{ status: string; job_id: string | null }>('SELECT status, job_id FROM datasets ORDER BY created_at');
      await db.close();
      return rows;
    });
    const votes = await ServiceDb.open(platform.namespace, 'votes');
    try {
      await waitFor(async () => (await votes.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]])) === accepted.size, {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: 'every accepted vote in the audit',
      });
      const persisted = await votes.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]]);
      const distinct = await votes.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]]);
      const alive = (pid: number | undefined): boolean => {
        try {
          return pid !== undefined && process.kill(pid, 0);
        } catch {
          return false;
        }
      };
      const samePids = SERVICES.filter((s) => platform.service(s).pid === pids[s] && alive(pids[s]));
      const crashLines = SERVICES.filter((s) => /"level":60/.test(platform.service(s).logs()));

      report(
        `Postgres stopped for ${(stoppedFor / 1000).toFixed(1)} s (the suite's own cluster: pg_ctl stop -m fast / start)`,
        {
          sent: accepted.size + [...refusedVotes.values()].reduce((a, b) => a + b, 0) + waiting.length,
          found: persisted + verdicts.length,
          duplicated: persisted - distinct,
          errors: [...refusedVotes.values()].reduce((a, b) => a + b, 0) + completeStatuses.length,
          'votes accepted': accepted.size,
          'of them while Postgres was down': acceptedDuring.size,
          'processes restarted': SERVICES.length - samePids.length,
        },
        [
          `readiness seen: ${SERVICES.map((s) => `${s} ${readinessSeen.get(s)!.join(' → ')}`).join('; ')}`,
          `completions during the outage answered ${completeStatuses.join(', ')} (done after it); verdicts ${verdicts.join(', ')}; votes refused by status ${JSON.stringify(Object.fromEntries(refusedVotes))}`,
          `fatal lines: ${crashLines.length ? crashLines.join(', ') : 'none'}`,
          `jobs: ${JSON.stringify(jobRows)}; datasets: ${JSON.stringify(datasetRows)}`,
        ],
      );
      expect(samePids).toEqual(SERVICES);
      for (const s of SERVICES) {
        const seen = readinessSeen.get(s)!;
        expect([s, seen.some((r) => r.startsWith('503') && r.includes('postgres'))]).toEqual([s, true]);
        expect([s, seen.at(-1)]).toEqual([s, '200']);
      }
      expect(acceptedDuring.size).toBeGreaterThan(0);
      expect([persisted, distinct]).toEqual([accepted.size, accepted.size]);
      expect(verdicts).toEqual(waiting.map(() => 'passed'));
      expect(completeStatuses.every((s) => s === 503)).toBe(true);
      expect(crashLines).toEqual([]);
    } finally {
      await votes.close();
    }
  });

  // The outage is longer than the validator's retries (5 × 1 s), but failures because
  // Postgres is away use none of them: the event waits the outage out, and the sweep
  // leaves the job (whose lease lapsed meanwhile) to it.
  it('a job whose retries would run out during the outage still passes after it', async () => {
    const db = await ServiceDb.open(hurried.namespace, 'validation');
    try {
      const job = await waitFor(
        async () => {
          const [row] = await db.rows<{ status: string; attempts: number; last_error: string | null }>('SELECT status, attempts, last_error FROM jobs WHERE id = $1', [hurriedJob]);
          return row && ['passed', 'failed', 'error'].includes(row.status) ? row : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'the hurried job to end' },
      ).catch(async (error: Error) => {
        const [row] = await db.rows('SELECT status, attempts, last_error, lease_until FROM jobs WHERE id = $1', [hurriedJob]);
        console.log(`Postgres outage longer than the validator's retries (5 × 1 s): job still ${JSON.stringify(row)} 30 s after the outage`);
        throw error;
      });
      console.log(`Postgres outage longer than the validator's retries (5 × 1 s): the job ended ${job.status} after ${job.attempts} attempt(s) (${job.last_error ?? 'no error recorded'})`);
      expect(job.status).toBe('passed');
    } finally {
      await db.close();
    }
  });
});
