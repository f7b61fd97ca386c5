import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import { ENV } from '@flotilla/config';
import {
  DatasetEvents,
  RpcError,
  type CompleteUploadDto,
  type CompleteUploadResult,
  type DatasetUploadedData,
  type RpcActor,
  type RpcFieldError,
} from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { ObjectStorage, StorageUnavailableError } from '@flotilla/storage';
import type { UploadEnv } from '../upload.env.js';
import { completed, DatasetRecords, partSizeOf, storageError, type DatasetRow, type FileRow } from './dataset-records.js';
import { rememberUploadKeys } from './removed-prefixes.js';
import { settleObjects, type SettledObject } from './settle-objects.js';
import { UploadSessions } from './upload-sessions.js';

/**
 * `upload/complete`: checks what arrived in S3 and, when every file is there as
 * declared, queues validation through the outbox.
 */
@Injectable()
export class UploadCompleteService {
  private readonly logger = new Logger(UploadCompleteService.name);
  private readonly uploadCount: Counter;
  private readonly uploadBytes: Counter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly records: DatasetRecords,
    private readonly sessions: UploadSessions,
    private readonly outbox: Outbox,
    @Inject(ENV) private readonly env: UploadEnv,
    metrics: MetricsService,
  ) {
    this.uploadCount = metrics.counter({ name: 's3_upload_count', help: 'Files uploaded to object storage and verified there' });
    this.uploadBytes = metrics.counter({ name: 's3_upload_bytes', help: 'Bytes uploaded to object storage and verified there' });
  }

  /**
   * Completes multipart uploads, checks every object (present, of the declared size),
   * moves single-PUT files to keys no upload URL names, records each object's ETag and,
   * when all are there, queues validation: status,
   * job and the `dataset.uploaded` event in one transaction. Idempotent: a completed
   * dataset answers its job again.
   */
  async complete(input: CompleteUploadDto, actor: RpcActor): Promise<CompleteUploadResult> {
    const dataset = await this.records.findScoped(input.datasetId, actor);
    if (dataset.status !== 'pending') return completed(dataset, false);
    if (dataset.upload_cleared_at) throw abandoned();
    const files = await this.records.files(dataset.id);
    const problems: RpcFieldError[] = [];
    let settled: SettledObject[] = [];
    const byId = new Map(files.map((f) => [f.id, f]));
    const parts = new Map((input.files ?? []).map((f) => [f.fileId, f.parts]));
    for (const fileId of parts.keys()) {
      const file = byId.get(fileId);
      if (!file) problems.push({ path: `files[fileId=${fileId}]`, message: 'is not a file of this dataset' });
      else if (!file.multipart_upload_id) problems.push({ path: `files[fileId=${fileId}]`, message: `${file.filename} was uploaded in one piece and takes no parts` });
    }
    try {
      for (const file of files.filter((f) => f.multipart_upload_id && parts.has(f.id))) {
        const problem = await this.completeMultipart(file, parts.get(file.id)!);
        if (problem) problems.push({ path: file.filename, message: problem });
      }
      const refused = new Set(problems.map((p) => p.path));
      // A multipart upload completed by an earlier call (whose other checks failed) is listed; otherwise its parts are needed.
      const missing = (file: FileRow): string =>
        file.multipart_upload_id && !parts.has(file.id) ? 'is a multipart upload; its parts and ETags are needed' : 'was not uploaded';
      const result = await settleObjects(this.storage, dataset.id, files, refused, missing);
      problems.push(...result.problems);
      settled = result.settled;
    } catch (error) {
      throw storageError(error);
    }
    if (problems.length > 0) {
      throw new RpcError('UNPROCESSABLE', `${problems.length} file(s) are missing or not as declared; nothing was queued.`, problems);
    }
    const jobId = randomUUID();
    const queued = await this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `UPDATE datasets SET status = 'queued', job_id = $2, queued_at = date_trunc('milliseconds', clock_timestamp()), updated_at = clock_timestamp()
         WHERE id = $1 AND status = 'pending' AND upload_cleared_at IS NULL RETURNING *`,
        [dataset.id, jobId],
      )) as [DatasetRow[], number];
      const row = rows[0][0];
      if (!row) return undefined;
      // The ETag of each object as checked: the download serves that object only while it is unchanged.
      await m.query(
        `UPDATE dataset_files f SET status = 'uploaded', etag = u.etag, parts = u.parts
         FROM unnest($2::uuid[], $3::text[], $4::int[]) AS u(id, etag, parts)
         WHERE f.id = u.id AND f.dataset_id = $1`,
        [dataset.id, settled.map((o) => o.fileId), settled.map((o) => o.etag), settled.map((o) => o.parts)],
      );
      const data: DatasetUploadedData = {
        datasetId: row.id,
        jobId,
        teamId: row.team_id,
        profile: row.profile,
        options: row.options,
        queuedAt: row.queued_at!.toISOString(),
        files: files.map((f) => ({
          fileId: f.id,
          filename: f.filename,
          contentType: f.content_type,
          sizeBytes: Number(f.size_bytes),
          key: f.object_key,
          ...(f.declared_sha256 ? { sha256: f.declared_sha256 } : {}),
        })),
      };
      if (files.some((f) => f.upload_key !== f.object_key)) await rememberUploadKeys(m, dataset.id, this.env.UPLOAD_EXPIRY_GRACE_SECONDS);
      await this.outbox.add(m, DatasetEvents.Uploaded, data);
      return row;
    });
    if (!queued) {
      // Completed meanwhile by another call, or claimed by the sweep as abandoned (its objects are going).
      const now = await this.records.findScoped(input.datasetId, actor);
      if (now.status === 'pending') throw abandoned();
      return completed(now, false);
    }
    this.outbox.flush();
    await this.sessions.close(dataset.id).catch((error: unknown) => this.logger.warn(`upload session of ${dataset.id} not closed: ${String(error)}`));
    this.uploadCount.inc(files.length);
    this.uploadBytes.inc(files.reduce((sum, f) => sum + Number(f.size_bytes), 0));
    return completed(queued, true);
  }

  /** Completes one multipart upload; returns the problem, if any, in the client's terms. */
  private async completeMultipart(file: FileRow, parts: { partNumber: number; etag: string }[]): Promise<string | undefined> {
    const expected = Math.ceil(Number(file.size_bytes) / partSizeOf(file, this.env.UPLOAD_PART_SIZE_BYTES));
    const numbers = new Set(parts.map((p) => p.partNumber));
    if (numbers.size !== parts.length) return 'lists a part number twice';
    if (numbers.size !== expected || [...numbers].some((n) => n > expected)) return `needs parts 1 to ${expected}, got ${[...numbers].sort((a, b) => a - b).join(', ')}`;
    try {
      await this.storage.completeMultipartUpload(file.object_key, file.multipart_upload_id!, [...parts].sort((a, b) => a.partNumber - b.partNumber));
      return undefined;
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      // Already completed by an earlier call? Then the object exists and the size check decides.
      if (await this.storage.head(file.object_key)) return undefined;
      return `parts could not be assembled: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

/** The sweep took the upload for abandoned (its URLs expired): its objects are removed, nothing is queued. */
function abandoned(): RpcError {
  return new RpcError('UNPROCESSABLE', 'The upload expired and its objects were removed; nothing was queued. Start a new upload.');
}
