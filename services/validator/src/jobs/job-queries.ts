import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { encodePageCursor, type ValidationIssue, type ValidationJobStatus, type ValidationStatus } from '@flotilla/contracts';
import type { JobRow } from './job-store.js';

/** A job as the admin lists it, across teams. */
export interface JobListItem {
  datasetId: string;
  jobId: string;
  teamId: string;
  status: ValidationJobStatus;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: { errors: number; warnings: number };
  attempts: number;
  lastError: string | null;
}

const JOB_STATUSES: readonly ValidationJobStatus[] = ['queued', 'running', 'passed', 'failed', 'error'];

/** What the status and admin routes read of the validator's jobs; {@link JobStore} writes them. */
@Injectable()
export class JobQueries {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest job of a dataset, or `undefined`. */
  async latest(datasetId: string): Promise<JobRow | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM jobs WHERE dataset_id = $1 ORDER BY queued_at DESC LIMIT 1`, [datasetId])) as JobRow[];
    return row;
  }

  /** The job's stored issues in order, at most `limit` of them. */
  async issues(jobId: string, limit: number): Promise<ValidationIssue[]> {
    const rows = (await this.dataSource.query(`SELECT severity, code, file, path, message FROM issues WHERE job_id = $1 ORDER BY seq LIMIT $2`, [jobId, limit])) as {
      severity: 'error' | 'warning';
      code: string;
      file: string | null;
      path: string | null;
      message: string;
    }[];
    return rows.map((r) => ({ severity: r.severity, code: r.code, ...(r.file ? { file: r.file } : {}), ...(r.path ? { path: r.path } : {}), message: r.message }));
  }

  /** The job's stored issues after place `afterSeq`, at most `limit`, and whether more follow. */
  async issuePage(jobId: string, afterSeq: number, limit: number): Promise<{ items: ValidationIssue[]; lastSeq: number | null; more: boolean }> {
    const rows = (await this.dataSource.query(
      `SELECT seq, severity, code, file, path, message FROM issues WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [jobId, afterSeq, limit + 1],
    )) as { seq: number; severity: 'error' | 'warning'; code: string; file: string | null; path: string | null; message: string }[];
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({ severity: r.severity, code: r.code, ...(r.file ? { file: r.file } : {}), ...(r.path ? { path: r.path } : {}), message: r.message })),
      lastSeq: page.at(-1)?.seq ?? null,
      more: rows.length > limit,
    };
  }

  /**
   * Every team's jobs, newest queued first, keyset-paged by `(queued_at, id)`: `after` is
   * the last job of the previous page. Optionally only those in `status`.
   */
  async list(options: { status?: ValidationJobStatus; after?: { queuedAt: Date; id: string }; limit: number }): Promise<{ items: JobListItem[]; nextCursor: string | null }> {
    const params: unknown[] = [options.limit + 1];
    const where: string[] = [];
    if (options.status) where.push(`status = $${params.push(options.status)}`);
    if (options.after) where.push(`(queued_at, id) < ($${params.push(options.after.queuedAt)}, $${params.push(options.after.id)})`);
    const rows = (await this.dataSource.query(
      `SELECT id, dataset_id, team_id, status, queued_at, started_at, finished_at, errors, warnings, attempts, last_error
       FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY queued_at DESC, id DESC LIMIT $1`,
      params,
    )) as Pick<JobRow, 'id' | 'dataset_id' | 'team_id' | 'status' | 'queued_at' | 'started_at' | 'finished_at' | 'errors' | 'warnings' | 'attempts' | 'last_error'>[];
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        datasetId: row.dataset_id,
        jobId: row.id,
        teamId: row.team_id,
        status: row.status,
        queuedAt: row.queued_at.toISOString(),
        startedAt: row.started_at?.toISOString() ?? null,
        finishedAt: row.finished_at?.toISOString() ?? null,
        summary: { errors: row.errors, warnings: row.warnings },
        attempts: row.attempts,
        lastError: row.last_error,
      })),
      nextCursor: rows.length > options.limit && last ? encodePageCursor({ createdAt: last.queued_at, id: last.id }) : null,
    };
  }

  /** Jobs per status, every status listed (0 when none). */
  async counts(): Promise<Record<ValidationJobStatus, number>> {
    const rows = (await this.dataSource.query(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status`)) as { status: ValidationJobStatus; n: number }[];
    const byStatus = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<ValidationJobStatus, number>;
    for (const row of rows) byStatus[row.status] = row.n;
    return byStatus;
  }

  /** The job as API.md's `ValidationStatus` (without the report link); `issues` holds the report's first `issueLimit`. */
  async status(job: JobRow, issueLimit: number): Promise<ValidationStatus> {
    const bytesTotal = Number(job.bytes_total);
    const bytesChecked = Number(job.bytes_checked);
    const percent =
      job.status === 'passed' || job.status === 'failed'
        ? 100
        : bytesTotal > 0
          ? Math.floor((bytesChecked / bytesTotal) * 100)
          : job.files_total > 0
            ? Math.floor((job.files_checked / job.files_total) * 100)
            : 0;
    return {
      datasetId: job.dataset_id,
      jobId: job.id,
      status: job.status,
      progress: { filesTotal: job.files_total, filesChecked: job.files_checked, bytesTotal, bytesChecked, percent },
      queuedAt: job.queued_at.toISOString(),
      ...(job.started_at ? { startedAt: job.started_at.toISOString() } : {}),
      ...(job.finished_at ? { finishedAt: job.finished_at.toISOString() } : {}),
      summary: { errors: job.errors, warnings: job.warnings },
      issues: job.finished_at ? await this.issues(job.id, issueLimit) : [],
      ...(job.status === 'error' && job.last_error ? { error: job.last_error } : {}),
    };
  }
}
