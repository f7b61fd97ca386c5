import type { DatasetUploadedData, ValidationCompletedData, ValidationIssue, ValidationJobStatus } from '@flotilla/contracts';

/** A row of `jobs`, as `SELECT *` returns it. */
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

/** What a job ended with, as the store records it. */
export interface JobVerdict {
  status: 'passed' | 'failed' | 'error';
  /** The listed issues: capped, see `IssueList`. */
  issues: ValidationIssue[];
  /** Exact counts, when `issues` is not the whole list. */
  summary?: { errors: number; warnings: number };
  files: FileResult[];
  reportKey: string | null;
  error?: string;
}

/** `validation.completed` of a job that ended `error` without a verdict. */
export function completedEvent(row: JobRow): ValidationCompletedData {
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
