import { IsInt, Max, Min } from 'class-validator';
import { StorageEnv } from '@flotilla/storage';

const MiB = 1024 * 1024;

export class UploadEnv extends StorageEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8082;

  /** Files in one dataset. */
  @IsInt()
  @Min(1)
  @Max(10_000)
  UPLOAD_MAX_FILES = 1000;

  /** Largest file accepted (S3's own limit is 5 TiB; 10,000 parts of `UPLOAD_PART_SIZE_BYTES`). */
  @IsInt()
  @Min(1)
  UPLOAD_MAX_FILE_BYTES = 5 * 1024 * MiB;

  /** Files above this size are uploaded in parts, each with its own presigned URL. */
  @IsInt()
  @Min(5 * MiB)
  UPLOAD_MULTIPART_THRESHOLD_BYTES = 64 * MiB;

  /** Size of each part of a multipart upload (S3 wants at least 5 MiB for all but the last). */
  @IsInt()
  @Min(5 * MiB)
  @Max(5 * 1024 * MiB)
  UPLOAD_PART_SIZE_BYTES = 16 * MiB;

  /** How long the upload URLs, and the upload session, stay valid. */
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  UPLOAD_URL_TTL_SECONDS = 3600;

  /** How long a download URL stays valid. */
  @IsInt()
  @Min(10)
  @Max(7 * 24 * 3600)
  DOWNLOAD_URL_TTL_SECONDS = 300;

  /**
   * How often the sweep runs: abandoned uploads are aborted and cleared, and the prefixes
   * of deleted datasets (and completed datasets' upload keys) are listed again.
   */
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  UPLOAD_SWEEP_INTERVAL_SECONDS = 300;

  /**
   * How long after its URLs expired an upload is still given: a PUT started just before
   * the expiry may still be arriving, and S3 allows 15 minutes of clock skew.
   */
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  UPLOAD_EXPIRY_GRACE_SECONDS = 900;

  /** Days after which the bucket's lifecycle rule has the store abort an unfinished multipart upload on its own. */
  @IsInt()
  @Min(1)
  @Max(365)
  UPLOAD_ABORT_INCOMPLETE_DAYS = 8;

  /** Quota default: bytes of all of a team's datasets, completed and pending upload (1 TiB). */
  @IsInt()
  @Min(0)
  QUOTA_MAX_STORED_BYTES = 1024 * 1024 * MiB;

  /** Quota default: declared bytes of one dataset (100 GiB). */
  @IsInt()
  @Min(0)
  QUOTA_MAX_DATASET_BYTES = 100 * 1024 * MiB;

  /** Quota default: files in one dataset (`UPLOAD_MAX_FILES` stays the platform's hard limit). */
  @IsInt()
  @Min(1)
  QUOTA_MAX_FILES_PER_DATASET = 1000;

  /** Quota default: a team's datasets pending upload at once. */
  @IsInt()
  @Min(0)
  QUOTA_MAX_CONCURRENT_UPLOADS = 100;
}
