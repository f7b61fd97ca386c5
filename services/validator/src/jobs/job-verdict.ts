import type { DataSource } from 'typeorm';
import { ValidationEvents, type ValidationCompletedData } from '@flotilla/contracts';
import type { Outbox } from '@flotilla/messaging';
import type { JobRow, JobVerdict } from './job-rows.js';

/**
 * Records a job's verdict — status, counts, file results, report and its listed issues —
 * with `validation.completed` in one transaction; does nothing (false) when the job is no
 * longer running. The job's row and its issues are written by one statement (a round trip
 * per job instead of three, where every job of a backlog ends here): issues an earlier
 * verdict left under the same numbers are overwritten, any beyond the new list removed.
 */
export async function recordVerdict(dataSource: DataSource, outbox: Outbox, job: JobRow, outcome: JobVerdict): Promise<boolean> {
  const errors = outcome.summary?.errors ?? outcome.issues.filter((i) => i.severity === 'error').length;
  const warnings = outcome.summary?.warnings ?? outcome.issues.length - errors;
  const issues = outcome.issues;
  const done = await dataSource.transaction(async (m) => {
    const [row] = (await m.query(
      `WITH done AS (
         UPDATE jobs SET status = $2, errors = $3, warnings = $4, report_key = $5, file_results = $6, last_error = $7,
           files_checked = CASE WHEN $2 = 'error' THEN files_checked ELSE files_total END,
           bytes_checked = CASE WHEN $2 = 'error' THEN bytes_checked ELSE bytes_total END,
           finished_at = clock_timestamp(), version = version + 1, updated_at = clock_timestamp()
         WHERE id = $1 AND status = 'running' RETURNING finished_at
       ), stale AS (
         DELETE FROM issues WHERE job_id = $1 AND seq >= cardinality($8::int[]) AND EXISTS (SELECT FROM done)
       ), listed AS (
         INSERT INTO issues (job_id, seq, severity, code, file, path, message)
         SELECT $1, u.seq, u.severity, u.code, u.file, u.path, u.message
         FROM unnest($8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) AS u(seq, severity, code, file, path, message)
         WHERE EXISTS (SELECT FROM done)
         ON CONFLICT (job_id, seq) DO UPDATE SET severity = EXCLUDED.severity, code = EXCLUDED.code, file = EXCLUDED.file,
           path = EXCLUDED.path, message = EXCLUDED.message
       )
       SELECT finished_at FROM done`,
      [job.id, outcome.status, errors, warnings, outcome.reportKey, JSON.stringify(outcome.files), outcome.error ?? null,
        issues.map((_, i) => i), issues.map((i) => i.severity), issues.map((i) => i.code),
        issues.map((i) => i.file ?? null), issues.map((i) => i.path ?? null), issues.map((i) => i.message)],
    )) as { finished_at: Date }[];
    if (!row) return false;
    const data: ValidationCompletedData = {
      datasetId: job.dataset_id,
      jobId: job.id,
      teamId: job.team_id,
      status: outcome.status,
      summary: { errors, warnings },
      files: outcome.files,
      finishedAt: row.finished_at.toISOString(),
    };
    await outbox.add(m, ValidationEvents.Completed, data);
    return true;
  });
  if (done) outbox.flush();
  return done;
}
