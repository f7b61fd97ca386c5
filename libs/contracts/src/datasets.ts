/**
 * Datasets: the RPC patterns of `upload` and `validator`, the `dataset.*` and
 * `validation.*` events, and the shapes of API.md's Datasets section.
 */

export const UploadRpc = {
  Start: 'upload.start',
  Complete: 'upload.complete',
  List: 'upload.list',
  Get: 'upload.get',
  Download: 'upload.download',
  Delete: 'upload.delete',
  /** What the store already holds of a pending upload, and fresh URLs for the rest. */
  Resume: 'upload.resume',
} as const;

export const ValidatorRpc = {
  Status: 'validator.status',
  Report: 'validator.report',
} as const;

export const DatasetProfiles = ['xray', 'teams-json'] as const;
export type DatasetProfile = (typeof DatasetProfiles)[number];

export const TeamsEditions = ['original', 'international'] as const;
export type TeamsEdition = (typeof TeamsEditions)[number];

/**
 * Content types `upload/start` accepts per profile (parameters such as `; charset=utf-8`
 * are ignored). What the bytes really are is the validator's business.
 */
export const PROFILE_CONTENT_TYPES: Record<DatasetProfile, readonly string[]> = {
  xray: [
    'image/png',
    'image/jpeg',
    'application/dicom',
    'application/octet-stream',
    'text/csv',
    'application/json',
    'text/plain',
  ],
  'teams-json': ['application/json', 'application/octet-stream'],
};

/** Why a filename is refused, or `undefined` when it is acceptable (API.md: Start rejects). */
export function filenameProblem(filename: string): string | undefined {
  if (filename.length === 0) return 'is empty';
  if (Buffer.byteLength(filename, 'utf8') > 255) return 'is longer than 255 bytes';
  if (/[/\\]/.test(filename)) return 'contains a path separator';
  if (filename === '.' || filename.includes('..')) return 'contains ".."';
  // C0 and C1 control characters, DEL included.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(filename)) return 'contains a control character';
  if (filename !== filename.trim()) return 'starts or ends with white space';
  return undefined;
}

export type DatasetStatus = 'pending' | 'queued' | 'running' | 'passed' | 'failed' | 'error';
export type ValidationJobStatus = 'queued' | 'running' | 'passed' | 'failed' | 'error';
export const FINISHED_JOB_STATUSES: readonly ValidationJobStatus[] = ['passed', 'failed', 'error'];

export interface StartFile {
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256?: string;
}

export interface StartUploadRequest {
  datasetName: string;
  description?: string;
  profile: DatasetProfile;
  options?: { edition?: TeamsEdition };
  files: StartFile[];
}

export interface SinglePutTarget {
  fileId: string;
  filename: string;
  method: 'PUT';
  uploadUrl: string;
  headers: Record<string, string>;
  expiresAt: string;
}

export interface MultipartTarget {
  fileId: string;
  filename: string;
  /** Every part is `partSizeBytes` long but the last, which holds the rest; each URL takes exactly its part's `sizeBytes`. */
  multipart: { uploadId: string; partSizeBytes: number; parts: { partNumber: number; sizeBytes: number; uploadUrl: string }[] };
  expiresAt: string;
}

export type FileTarget = SinglePutTarget | MultipartTarget;

export interface StartUploadResponse {
  datasetId: string;
  expiresIn: number;
  files: FileTarget[];
}

/** One file of a pending upload as the store holds it (ListParts for multipart files, HEAD for the others). */
export interface ResumeFileState {
  fileId: string;
  filename: string;
  /** The whole file is there (every part, for a multipart file). */
  uploaded: boolean;
  /** Multipart files: each part, with the ETag the store gave it when it is there. */
  parts?: { partNumber: number; uploaded: boolean; etag?: string }[];
}

/** `GET /datasets/{id}/upload`: the files' state and fresh targets for exactly what is missing. */
export interface ResumeUploadResponse {
  datasetId: string;
  /** Seconds the new URLs stay valid; the upload session's expiry was pushed to match. */
  expiresIn: number;
  files: ResumeFileState[];
  /** A target per file still missing something; a multipart target lists only its missing parts. */
  targets: FileTarget[];
}

export interface CompleteUploadRequest {
  datasetId: string;
  files?: { fileId: string; parts: { partNumber: number; etag: string }[] }[];
}

export interface CompleteUploadResponse {
  datasetId: string;
  validationJobId: string;
  status: 'queued';
}

/** The outcome of `upload.complete`: `created` false when it had been completed before (HTTP 200, not 202). */
export interface CompleteUploadResult extends CompleteUploadResponse {
  created: boolean;
}

export interface DatasetSummary {
  id: string;
  name: string;
  profile: DatasetProfile;
  status: DatasetStatus;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
}

export interface DatasetList {
  items: DatasetSummary[];
  nextCursor: string | null;
}

export interface DatasetFileView {
  id: string;
  filename: string;
  sizeBytes: number;
  contentType: string;
  sha256: string | null;
  md5: string | null;
  status: 'pending' | 'uploaded';
  /** Other files of the team with the same SHA-256 (content addressing). */
  sameContentAs: { datasetId: string; fileId: string; filename: string }[];
}

export interface LatestJob {
  id: string;
  status: ValidationJobStatus;
  queuedAt: string;
}

export interface DatasetDetail extends DatasetSummary {
  teamId: string;
  description: string | null;
  options: { edition?: TeamsEdition };
  updatedAt: string;
  files: DatasetFileView[];
  latestJob: LatestJob | null;
}

export interface DownloadLink {
  url: string;
  expiresAt: string;
}

export interface ValidationIssue {
  severity: 'error' | 'warning';
  code: string;
  file?: string;
  path?: string;
  message: string;
}

export interface ValidationProgress {
  filesTotal: number;
  filesChecked: number;
  bytesTotal: number;
  bytesChecked: number;
  percent: number;
}

export interface ValidationStatus {
  datasetId: string;
  jobId: string;
  status: ValidationJobStatus;
  progress: ValidationProgress;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  summary: { errors: number; warnings: number };
  issues: ValidationIssue[];
  reportUrl?: string;
  /** Why the system could not finish, when `status` is `error`. */
  error?: string;
}

/**
 * `GET /datasets/{id}/report`: the latest job's verdict and a page of its stored issues
 * (in the order found; capped per code and in total, each capped code ending in one
 * summary issue), `nextCursor` for the next page. No issues until the job finished.
 */
export interface ValidationReport {
  datasetId: string;
  jobId: string;
  status: ValidationJobStatus;
  summary: { errors: number; warnings: number };
  items: ValidationIssue[];
  nextCursor: string | null;
}

/** A file as the validator needs it, carried in `dataset.uploaded`. */
export interface UploadedFile {
  fileId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256?: string;
  key: string;
}

export const DatasetEvents = {
  Uploaded: 'dataset.uploaded',
  Deleted: 'dataset.deleted',
} as const;

export const ValidationEvents = {
  Started: 'validation.started',
  /** A running job's progress: transient (no outbox, expires unread), for the gateways' event streams only. */
  Progress: 'validation.progress',
  Completed: 'validation.completed',
} as const;

export interface DatasetUploadedData {
  datasetId: string;
  jobId: string;
  teamId: string;
  profile: DatasetProfile;
  options: { edition?: TeamsEdition };
  files: UploadedFile[];
  queuedAt: string;
}

export interface DatasetDeletedData {
  datasetId: string;
  teamId: string;
  deletedBy: string;
}

export interface ValidationStartedData {
  datasetId: string;
  jobId: string;
  teamId: string;
  startedAt: string;
}

/** `validation.progress`: counts as written to the job's row. Lost or late ones change nothing: readers re-read the job. */
export interface ValidationProgressData {
  datasetId: string;
  jobId: string;
  filesChecked: number;
  bytesChecked: number;
}

export interface ValidationCompletedData {
  datasetId: string;
  jobId: string;
  teamId: string;
  status: 'passed' | 'failed' | 'error';
  summary: { errors: number; warnings: number };
  /** What the validator read, per file: the content address of each object. */
  files: { fileId: string; sha256: string; md5: string; sizeBytes: number }[];
  finishedAt: string;
}
