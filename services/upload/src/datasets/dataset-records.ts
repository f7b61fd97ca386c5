import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  mayAccessTeam,
  RpcError,
  type CompleteUploadResult,
  type DatasetDetail,
  type DatasetStatus,
  type DatasetSummary,
  type RpcActor,
  type ValidationJobStatus,
} from '@flotilla/contracts';
import type { SqlRunner } from '@flotilla/messaging';
import { StorageUnavailableError } from '@flotilla/storage';

export interface DatasetRow {
  id: string;
  team_id: string;
  created_by: string;
  name: string;
  description: string | null;
  profile: DatasetDetail['profile'];
  options: DatasetDetail['options'];
  status: DatasetStatus;
  file_count: number;
  total_bytes: string;
  job_id: string | null;
  queued_at: Date | null;
  /** Set when the sweep took the upload for abandoned. */
  upload_cleared_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface FileRow {
  id: string;
  dataset_id: string;
  filename: string;
  content_type: string;
  size_bytes: string;
  declared_sha256: string | null;
  sha256: string | null;
  md5: string | null;
  object_key: string;
  /** Where the client uploads; the object key itself for multipart files and files recorded before. */
  upload_key: string;
  /** The object's ETag (and S3 part count) recorded at completion: what was validated. */
  etag: string | null;
  parts: number | null;
  multipart_upload_id: string | null;
  /** The part size a multipart file was signed with (null: recorded before it was kept; the configured size). */
  part_size_bytes: string | null;
  status: 'pending' | 'uploaded';
}

/** Where a dataset's objects are: one prefix per dataset, so listing or deleting a dataset is one prefix. */
export const datasetPrefix = (datasetId: string): string => `datasets/${datasetId}/`;

/**
 * Where a file is uploaded: `datasets/{datasetId}/{fileId}/{filename}`. A multipart
 * file stays there: once its upload is completed, its part URLs name an upload the store
 * no longer has, and write nothing.
 */
export const uploadKey = (datasetId: string, fileId: string, filename: string): string => `${datasetPrefix(datasetId)}${fileId}/${filename}`;

/**
 * Where a file sent in one PUT is kept once completed: a key no upload URL names.
 * Completion copies the upload there and deletes the upload key, so a PUT to the old URL
 * afterwards (valid for the session's whole TTL) cannot change what was validated and
 * is served.
 */
export const finalKey = (datasetId: string, fileId: string, filename: string): string => `${datasetPrefix(datasetId)}${fileId}/final/${filename}`;

/** Reads of the dataset and file rows that every dataset operation starts from. */
@Injectable()
export class DatasetRecords {
  constructor(private readonly dataSource: DataSource) {}

  /** The dataset if the caller may see it; another team's id is simply not found. */
  async findScoped(datasetId: string, actor: RpcActor, runner: SqlRunner | EntityManager = this.dataSource): Promise<DatasetRow> {
    const [row] = (await runner.query(`SELECT * FROM datasets WHERE id = $1`, [datasetId])) as DatasetRow[];
    if (!row || !mayAccessTeam(actor, row.team_id)) throw new RpcError('NOT_FOUND', `Dataset ${datasetId} does not exist.`);
    return row;
  }

  async files(datasetId: string): Promise<FileRow[]> {
    return (await this.dataSource.query(`SELECT * FROM dataset_files WHERE dataset_id = $1 ORDER BY position`, [datasetId])) as FileRow[];
  }
}

export function summary(row: DatasetRow): DatasetSummary {
  return {
    id: row.id,
    name: row.name,
    profile: row.profile,
    status: row.status,
    fileCount: row.file_count,
    totalBytes: Number(row.total_bytes),
    createdAt: row.created_at.toISOString(),
  };
}

export function completed(row: DatasetRow, created: boolean): CompleteUploadResult {
  return { datasetId: row.id, validationJobId: row.job_id!, status: 'queued', created };
}

export function jobStatus(status: DatasetStatus): ValidationJobStatus {
  return status === 'pending' ? 'queued' : status;
}

/** S3 being down is the caller's 503; anything else is a bug and stays a 500. */
export function storageError(error: unknown): unknown {
  if (error instanceof StorageUnavailableError) return new RpcError('UNAVAILABLE', 'Object storage is not reachable; try again shortly.');
  return error;
}

/** The part size `file` was signed with: recorded at start, or (files recorded before it was) the configured one. */
export function partSizeOf(file: Pick<FileRow, 'part_size_bytes'>, configured: number): number {
  return file.part_size_bytes == null ? configured : Number(file.part_size_bytes);
}
