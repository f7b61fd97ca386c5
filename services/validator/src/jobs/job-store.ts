import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ValidationEvents, type DatasetUploadedData } from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import { claimJob, type Claim } from './job-claim.js';
import { completedEvent, type JobRow, type JobVerdict } from './job-rows.js';
import { recordVerdict } from './job-verdict.js';

export type { Claim } from './job-claim.js';
export type { FileResult, JobRow, JobVerdict } from './job-rows.js';

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

  /** Records and claims the job of a `dataset.uploaded` event: see {@link claimJob}. */
  claim(data: DatasetUploadedData, leaseMs: number, options: { record: boolean; maxAttempts: number }): Promise<Claim> {
    return claimJob(this.dataSource, this.outbox, data, leaseMs, options);
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

  /** The verdict, with `validation.completed`: see {@link recordVerdict}. False when the job is no longer running. */
  finish(job: JobRow, outcome: JobVerdict): Promise<boolean> {
    return recordVerdict(this.dataSource, this.outbox, job, outcome);
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
