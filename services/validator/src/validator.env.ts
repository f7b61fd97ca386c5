import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { StorageEnv } from '@flotilla/storage';

export class ValidatorEnv extends StorageEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8083;

  /**
   * Validation jobs this instance runs at once (the prefetch of its event queue). A job
   * spends most of its time waiting on S3 and Postgres, not on CPU, so several run side by
   * side. At most this times `VALIDATION_FILE_CONCURRENCY` downloads are open at once;
   * beyond the S3 client's 50 sockets they wait for one.
   */
  @IsInt()
  @Min(1)
  @Max(64)
  VALIDATION_CONCURRENCY = 8;

  /**
   * Files of one job read at once. Each is streamed: what is held per file is its first
   * 256 KiB, and the whole content only for a manifest or JSON document (up to 16 MiB).
   */
  @IsInt()
  @Min(1)
  @Max(32)
  VALIDATION_FILE_CONCURRENCY = 4;

  /** Attempts at a job before it ends `error` and its event is dead-lettered. */
  @IsInt()
  @Min(1)
  @Max(100)
  VALIDATION_MAX_ATTEMPTS = 5;

  /** Delay before a failed job is tried again. Changing it needs the retry queue deleted first. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  VALIDATION_RETRY_DELAY_MS = 5000;

  /**
   * A running job's lease, renewed while it runs. After a crash, the redelivered job
   * is taken over once the lease has lapsed; never while its instance is alive.
   */
  @IsInt()
  @Min(1000)
  @Max(600_000)
  VALIDATION_LEASE_MS = 15_000;

  /** How often a running job records its progress. */
  @IsInt()
  @Min(50)
  @Max(60_000)
  VALIDATION_PROGRESS_INTERVAL_MS = 500;

  /** Issues a job lists per code; the rest of a code are summed in one issue. Counts stay exact. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  VALIDATION_MAX_ISSUES_PER_CODE = 100;

  /** Issues a job lists in all, summaries included (its report and its stored issues). */
  @IsInt()
  @Min(50)
  @Max(1_000_000)
  VALIDATION_MAX_ISSUES = 1000;

  /** Characters kept of an issue's message, file and path. */
  @IsInt()
  @Min(80)
  @Max(100_000)
  VALIDATION_MAX_MESSAGE_LENGTH = 1000;

  /** Issues in a job's status (`ValidationStatus.issues`): the first page of its report. */
  @IsInt()
  @Min(1)
  @Max(1000)
  VALIDATION_STATUS_ISSUES = 100;

  /**
   * Bytes of documents (manifests, team documents) one job may hold whole for its checks.
   * A dataset asking for more ends `failed` (`job_too_large`) before or while they are read,
   * so a thousand files named like manifests cannot fill the validator's memory.
   */
  @IsInt()
  @Min(1024 * 1024)
  @Max(4 * 1024 * 1024 * 1024)
  VALIDATION_JOB_DOCUMENT_BYTES = 64 * 1024 * 1024;

  /** `xray`: the allowed labels, comma-separated. */
  @IsString()
  @Matches(/^[^,\s][^,]*(,[^,\s][^,]*)*$/, { message: 'XRAY_LABELS must be a comma-separated list of labels' })
  XRAY_LABELS = 'normal,abnormal';

  /** `xray`: the smallest width and height accepted, in pixels. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  XRAY_MIN_IMAGE_SIZE = 64;

  /** How long a report link in a job's status stays valid. */
  @IsInt()
  @Min(10)
  @Max(7 * 24 * 3600)
  REPORT_URL_TTL_SECONDS = 300;
}
