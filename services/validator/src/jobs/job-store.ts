import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  ValidationEvents,
  type DatasetUploadedData,
  type ValidationCompletedData,
  type ValidationIssue,
  type ValidationJobStatus,
  type ValidationStartedData,
} from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';

export interface JobRow {
  id: string;
  dataset_id: string;
  team_id: string;
  profile: DatasetUploadedData['profile'];
  options: DatasetUploadedData['options'];
  files: DatasetUploadedData['files'];
  status: ValidationJobStatus;
  files_total: number;
  files_checked: number;
  bytes_total: string;
  bytes_checked: string;
  errors: number;
  warnings: number;
  attempts: number;
  last_error: string | null;
  report_key: string | null;
  version: number;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface FileResult {
  fileId: string;
  sha256: string;
  md5: string;
  sizeBytes: number;
}

/**
 * The validator's own tables. Every state change bumps `version` (the status ETag),
 * and the ones others must hear of write their event to the outbox in the same
 * transaction.
 */
@Injectable()
export class JobStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

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
  async claim(
    data: DatasetUploadedData,
    leaseMs: number,
    options: { record: boolean; maxAttempts: number },
  ): Promise<{ kind: 'claimed'; job: JobRow } | { kind: 'finished' } | { kind: 'gone' } | { kind: 'leased'; forMs: number } | { kind: 'exhausted'; reason: string }> {
    const jobId = data.jobId;
    const claimed = await this.dataSource.transaction(async (m) => {
      // Not again while waiting for another instance's lease: the job is recorded by then, and its file list may be long.
      if (options.record) {
        await m.query(
          `INSERT INTO jobs (id, dataset_id, team_id, profile, options, files, status, files_total, bytes_total, queued_at)
           SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::jsonb, $6::jsonb, 'queued', $7::int, $8::bigint, $9::timestamptz
           WHERE NOT EXISTS (SELECT 1 FROM deleted_datasets WHERE dataset_id = $2::uuid)
           ON CONFLICT (id) DO NOTHING`,
          [jobId, data.datasetId, data.teamId, data.profile, JSON.stringify(data.options ?? {}), JSON.stringify(data.files),
            data.files.length, data.files.reduce((sum, f) => sum + f.sizeBytes, 0), data.queuedAt],
        );
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
        await this.outbox.add(m, ValidationEvents.Completed, completedEvent(row!));
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
        await this.outbox.add(m, ValidationEvents.Started, started);
      }
      return { kind: 'claimed' as const, job: row!, announced: before.status === 'queued' };
    });
    if ((claimed.kind === 'claimed' && claimed.announced) || claimed.kind === 'exhausted') this.outbox.flush();
    return claimed.kind === 'claimed' ? { kind: 'claimed', job: claimed.job } : claimed;
  }

  /** Extends the lease of a job this instance runs; false when the job is gone or no longer running. */
  async renewLease(jobId: string, leaseMs: number): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE jobs SET lease_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000) WHERE id = $1 AND status = 'running'`,
      [jobId, leaseMs],
    )) as [unknown, number];
    return count === 1;
  }

  /** Progress of a running job; false when the job is gone (its dataset was deleted). */
  async progress(jobId: string, filesChecked: number, bytesChecked: number): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE jobs SET files_checked = $2, bytes_checked = $3, version = version + 1, updated_at = clock_timestamp()
       WHERE id = $1 AND status = 'running'`,
      [jobId, filesChecked, bytesChecked],
    )) as [unknown, number];
    return count === 1;
  }

  /**
   * Records why an attempt failed, and gives up the job's lease: it now runs out when the
   * retry is due (`retryInMs` from now), so the retried event claims the job at once
   * instead of waiting out the whole lease of the failed attempt. The job stays
   * `running`; should the retry never come, {@link expireAbandoned} still ends it.
   */
  async recordFailure(jobId: string, error: string, retryInMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE jobs SET last_error = $2, lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000), updated_at = clock_timestamp()
       WHERE id = $1`,
      [jobId, error, retryInMs],
    );
  }

  /**
   * Records an attempt that failed because a dependency (S3, Postgres) was unreachable,
   * and gives the attempt back: an outage is waited out by the event's retries and must
   * not use up the job's attempts (RELIABILITY.md: S3 down for minutes costs no attempt).
   * The lease runs out when the retry is due, as after {@link recordFailure}.
   */
  async recordOutage(jobId: string, error: string, retryInMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE jobs SET last_error = $2, attempts = GREATEST(attempts - 1, 0),
         lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000), updated_at = clock_timestamp()
       WHERE id = $1 AND status = 'running'`,
      [jobId, error, retryInMs],
    );
  }

  /**
   * The verdict: issues, counts, report and status in one transaction with
   * `validation.completed`. Does nothing when the job is no longer running.
   */
  async finish(
    job: JobRow,
    outcome: {
      status: 'passed' | 'failed' | 'error';
      /** The listed issues: capped, see `IssueList`. */
      issues: ValidationIssue[];
      /** Exact counts, when `issues` is not the whole list. */
      summary?: { errors: number; warnings: number };
      files: FileResult[];
      reportKey: string | null;
      error?: string;
    },
  ): Promise<boolean> {
    const errors = outcome.summary?.errors ?? outcome.issues.filter((i) => i.severity === 'error').length;
    const warnings = outcome.summary?.warnings ?? outcome.issues.length - errors;
    const done = await this.dataSource.transaction(async (m) => {
      const [[row]] = (await m.query(
        `UPDATE jobs SET status = $2, errors = $3, warnings = $4, report_key = $5, file_results = $6, last_error = $7,
           files_checked = CASE WHEN $2 = 'error' THEN files_checked ELSE files_total END,
           bytes_checked = CASE WHEN $2 = 'error' THEN bytes_checked ELSE bytes_total END,
           finished_at = clock_timestamp(), version = version + 1, updated_at = clock_timestamp()
         WHERE id = $1 AND status = 'running' RETURNING finished_at`,
        [job.id, outcome.status, errors, warnings, outcome.reportKey, JSON.stringify(outcome.files), outcome.error ?? null],
      )) as [{ finished_at: Date }[], number];
      if (!row) return false;
      await m.query(`DELETE FROM issues WHERE job_id = $1`, [job.id]);
      if (outcome.issues.length > 0) {
        await m.query(
          `INSERT INTO issues (job_id, seq, severity, code, file, path, message)
           SELECT $1, u.seq, u.severity, u.code, u.file, u.path, u.message
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(seq, severity, code, file, path, message)`,
          [job.id, outcome.issues.map((_, i) => i), outcome.issues.map((i) => i.severity), outcome.issues.map((i) => i.code),
            outcome.issues.map((i) => i.file ?? null), outcome.issues.map((i) => i.path ?? null), outcome.issues.map((i) => i.message)],
        );
      }
      const data: ValidationCompletedData = {
        datasetId: job.dataset_id,
        jobId: job.id,
        teamId: job.team_id,
        status: outcome.status,
        summary: { errors, warnings },
        files: outcome.files,
        finishedAt: row.finished_at.toISOString(),
      };
      await this.outbox.add(m, ValidationEvents.Completed, data);
      return true;
    });
    if (done) this.outbox.flush();
    return done;
  }

  /** Resolves when Postgres answers. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /**
   * Jobs still `running` whose lease lapsed more than `graceMs` ago have nobody working
   * on them and no event coming back for them (say, the last attempt was dead-lettered
   * but could not record the verdict): they end `error`, announced like any verdict. A
   * replay of their event runs them again.
   */
  async expireAbandoned(graceMs: number): Promise<number> {
    const expired = await this.dataSource.transaction(async (m) => {
      const [rows] = (await m.query(
        `UPDATE jobs SET status = 'error', finished_at = clock_timestamp(), version = version + 1, updated_at = clock_timestamp(),
           last_error = coalesce(last_error, 'the validation stopped without recording why') || ' (abandoned: its lease lapsed)'
         WHERE status = 'running' AND lease_until < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
         RETURNING *`,
        [graceMs],
      )) as [JobRow[], number];
      for (const row of rows) await this.outbox.add(m, ValidationEvents.Completed, completedEvent(row));
      return rows.length;
    });
    if (expired > 0) this.outbox.flush();
    return expired;
  }

  /** Forgets a deleted dataset's jobs, and remembers the deletion against late events. */
  async forgetDataset(datasetId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO deleted_datasets (dataset_id) VALUES ($1) ON CONFLICT DO NOTHING`, [datasetId]);
      await m.query(`DELETE FROM jobs WHERE dataset_id = $1`, [datasetId]);
    });
  }

  async isDeleted(datasetId: string): Promise<boolean> {
    return ((await this.dataSource.query(`SELECT 1 FROM deleted_datasets WHERE dataset_id = $1`, [datasetId])) as unknown[]).length > 0;
  }
}

/** `validation.completed` of a job that ended `error` without a verdict. */
function completedEvent(row: JobRow): ValidationCompletedData {
  return {
    datasetId: row.dataset_id,
    jobId: row.id,
    teamId: row.team_id,
    status: 'error',
    summary: { errors: row.errors, warnings: row.warnings },
    files: [],
    finishedAt: row.finished_at!.toISOString(),
  };
}
