import type { DataSource } from 'typeorm';
import { ValidationEvents, type DatasetUploadedData, type ValidationJobStatus, type ValidationStartedData } from '@flotilla/contracts';
import type { Outbox } from '@flotilla/messaging';
import { completedEvent, type JobRow } from './job-rows.js';

/** What claiming a job came to; see {@link claimJob}. */
export type Claim =
  | { kind: 'claimed'; job: JobRow }
  | { kind: 'finished' }
  | { kind: 'gone' }
  | { kind: 'leased'; forMs: number }
  | { kind: 'exhausted'; reason: string };

/**
 * Records the job of a `dataset.uploaded` event unless it exists already or its dataset
 * was deleted, and takes it to `running` for one more attempt under a lease of
 * `leaseMs` — in one transaction. Answers `gone` when the dataset was deleted (there is
 * nothing to do), `finished` when the job is `passed`/`failed` (a redelivered event is
 * not validated twice) and `leased` while another instance holds a live lease on it. A
 * job that ended in `error` starts again from its first attempt: that is a replay.
 * The first start publishes `validation.started`. With `record: false` the job is only
 * claimed (an earlier call recorded it). A job still `running` whose lease lapsed after
 * `maxAttempts` started attempts ends `error` (`exhausted`): it is never claimed again.
 */
export async function claimJob(
  dataSource: DataSource,
  outbox: Outbox,
  data: DatasetUploadedData,
  leaseMs: number,
  options: { record: boolean; maxAttempts: number },
): Promise<Claim> {
  const jobId = data.jobId;
  const claimed = await dataSource.transaction(async (m) => {
    // Not again while waiting for another instance's lease: the job is recorded by then, and its file list may be long.
    if (options.record) {
      // The usual case, a job heard of for the first time: recorded as already started, in
      // one statement (what recording it `queued` and then starting it came to, in one round
      // trip instead of three; nobody could see it `queued` before its transaction committed).
      const [fresh] = (await m.query(
        `INSERT INTO jobs (id, dataset_id, team_id, profile, options, files, status, files_total, bytes_total, queued_at,
           attempts, lease_until, started_at, version)
         SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::jsonb, $6::jsonb, 'running', $7::int, $8::bigint, $9::timestamptz,
           1, clock_timestamp() + make_interval(secs => $10::double precision / 1000), clock_timestamp(), 2
         WHERE NOT EXISTS (SELECT 1 FROM deleted_datasets WHERE dataset_id = $2::uuid)
         ON CONFLICT (id) DO NOTHING
         RETURNING *`,
        [jobId, data.datasetId, data.teamId, data.profile, JSON.stringify(data.options ?? {}), JSON.stringify(data.files),
          data.files.length, data.files.reduce((sum, f) => sum + f.sizeBytes, 0), data.queuedAt, leaseMs],
      )) as JobRow[];
      if (fresh) {
        const started: ValidationStartedData = { datasetId: fresh.dataset_id, jobId, teamId: fresh.team_id, startedAt: fresh.started_at!.toISOString() };
        await outbox.add(m, ValidationEvents.Started, started);
        return { kind: 'claimed' as const, job: fresh, announced: true };
      }
      // Recorded before (a redelivery, a retry), or its dataset was deleted: as below.
    }
    const [before] = (await m.query(
      `SELECT status, attempts, GREATEST(0, EXTRACT(EPOCH FROM (lease_until - clock_timestamp())) * 1000)::int AS lease_ms FROM jobs WHERE id = $1 FOR UPDATE`,
      [jobId],
    )) as { status: ValidationJobStatus; attempts: number; lease_ms: number | null }[];
    // No row: the dataset was deleted, before this event or since (its jobs were forgotten).
    if (!before) return { kind: 'gone' as const };
    if (before.status === 'passed' || before.status === 'failed') return { kind: 'finished' as const };
    if (before.status === 'running' && (before.lease_ms ?? 0) > 0) return { kind: 'leased' as const, forMs: before.lease_ms! };
    // Attempts are counted as they start, so one that killed its validator counts too: a
    // dataset that crashes the validator every time ends here instead of looping forever.
    if (before.status === 'running' && before.attempts >= options.maxAttempts) {
      const reason = `all ${before.attempts} attempt(s) used up: the validation stopped without a verdict each time (the last error, if any: `;
      const [[row]] = (await m.query(
        `UPDATE jobs SET status = 'error', finished_at = clock_timestamp(), version = version + 1, updated_at = clock_timestamp(),
           last_error = $2 || coalesce(last_error, 'none recorded, the validator stopped') || ')'
         WHERE id = $1 RETURNING *`,
        [jobId, reason],
      )) as [JobRow[], number];
      await outbox.add(m, ValidationEvents.Completed, completedEvent(row!));
      return { kind: 'exhausted' as const, reason: row!.last_error! };
    }
    const [[row]] = (await m.query(
      `UPDATE jobs SET status = 'running',
         attempts = CASE WHEN status = 'error' THEN 1 ELSE attempts + 1 END,
         lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000),
         started_at = CASE WHEN status = 'queued' OR started_at IS NULL THEN clock_timestamp() ELSE started_at END,
         finished_at = NULL, files_checked = 0, bytes_checked = 0, errors = 0, warnings = 0, last_error = NULL,
         version = version + 1, updated_at = clock_timestamp()
       WHERE id = $1 RETURNING *`,
      [jobId, leaseMs],
    )) as [JobRow[], number];
    if (before.status === 'queued') {
      const started: ValidationStartedData = { datasetId: row!.dataset_id, jobId, teamId: row!.team_id, startedAt: row!.started_at!.toISOString() };
      await outbox.add(m, ValidationEvents.Started, started);
    }
    return { kind: 'claimed' as const, job: row!, announced: before.status === 'queued' };
  });
  if ((claimed.kind === 'claimed' && claimed.announced) || claimed.kind === 'exhausted') outbox.flush();
  return claimed.kind === 'claimed' ? { kind: 'claimed', job: claimed.job } : claimed;
}
