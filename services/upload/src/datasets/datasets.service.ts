import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import { ENV } from '@flotilla/config';
import {
  mayAccessTeam,
  DatasetEvents,
  decodePageCursor,
  encodePageCursor,
  filenameProblem,
  PROFILE_CONTENT_TYPES,
  RpcError,
  type CompleteUploadDto,
  type CompleteUploadResult,
  type DatasetDeletedData,
  type DatasetDetail,
  type DatasetFileView,
  type DatasetList,
  type DatasetStatus,
  type DatasetSummary,
  type DatasetUploadedData,
  type DownloadLink,
  type FileTarget,
  type RpcActor,
  type RpcFieldError,
  type StartUploadDto,
  type StartUploadResponse,
  type ValidationCompletedData,
  type ValidationJobStatus,
  type ValidationStartedData,
} from '@flotilla/contracts';
import { markEventProcessed, Outbox, type SqlRunner } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { ObjectStorage, StorageUnavailableError } from '@flotilla/storage';
import type { UploadEnv } from '../upload.env.js';
import { UploadSessions } from './upload-sessions.js';

interface DatasetRow {
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
  created_at: Date;
  updated_at: Date;
}

interface FileRow {
  id: string;
  dataset_id: string;
  filename: string;
  content_type: string;
  size_bytes: string;
  declared_sha256: string | null;
  sha256: string | null;
  md5: string | null;
  object_key: string;
  multipart_upload_id: string | null;
  status: 'pending' | 'uploaded';
}

const MAX_PARTS = 10_000;
/** Datasets a purge removes per round: objects, then rows and events in one transaction. */
const PURGE_BATCH = 100;
const DATASET_STATUSES: readonly DatasetStatus[] = ['pending', 'queued', 'running', 'passed', 'failed', 'error'];

/** A dataset in an every-team list: the summary and whose it is. */
export interface TeamDatasetSummary extends DatasetSummary {
  teamId: string;
}

/** What `upload.purge` removed. */
export interface PurgeResult {
  datasetsDeleted: number;
  objectsDeleted: number;
  bytesFreed: number;
}

/** What `upload.counts` answers. */
export interface DatasetCounts {
  byStatus: Record<DatasetStatus, number>;
  total: number;
  totalBytes: number;
}

/** Where a dataset's objects are: one prefix per dataset, so listing or deleting a dataset is one prefix. */
export const datasetPrefix = (datasetId: string): string => `datasets/${datasetId}/`;

/** The object key of a file, under its dataset's prefix. */
export const objectKey = (datasetId: string, fileId: string, filename: string): string => `${datasetPrefix(datasetId)}${fileId}/${filename}`;

/**
 * Datasets of a team, from the upload session to the validator's verdict. Objects go
 * straight from the client to S3 through presigned URLs; this service signs them,
 * checks what arrived, and announces complete datasets through the outbox.
 */
@Injectable()
export class DatasetsService {
  private readonly logger = new Logger(DatasetsService.name);
  private readonly uploadCount: Counter;
  private readonly uploadBytes: Counter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly sessions: UploadSessions,
    private readonly outbox: Outbox,
    @Inject(ENV) private readonly env: UploadEnv,
    metrics: MetricsService,
  ) {
    this.uploadCount = metrics.counter({ name: 's3_upload_count', help: 'Files uploaded to object storage and verified there' });
    this.uploadBytes = metrics.counter({ name: 's3_upload_bytes', help: 'Bytes uploaded to object storage and verified there' });
  }

  /**
   * Checks every file entry (422 listing each problem, before anything is signed),
   * signs an upload URL per file — part URLs above the multipart threshold — records
   * the dataset and its files, and opens the upload session.
   */
  async start(input: StartUploadDto, actor: RpcActor): Promise<StartUploadResponse> {
    const teamId = actor.teamId;
    if (!teamId) throw new RpcError('UNPROCESSABLE', 'Datasets belong to a team, and this account has none.');
    this.checkFiles(input);
    const datasetId = randomUUID();
    const ttl = this.env.UPLOAD_URL_TTL_SECONDS;
    const files = input.files.map((file, position) => {
      const id = randomUUID();
      return { ...file, id, position, key: objectKey(datasetId, id, file.filename), uploadId: null as string | null };
    });
    const targets: FileTarget[] = [];
    try {
      for (const file of files) {
        if (file.sizeBytes > this.env.UPLOAD_MULTIPART_THRESHOLD_BYTES) {
          file.uploadId = await this.storage.createMultipartUpload(file.key, file.contentType);
          const partSize = this.env.UPLOAD_PART_SIZE_BYTES;
          const count = Math.ceil(file.sizeBytes / partSize);
          const parts = await Promise.all(
            Array.from({ length: count }, async (_, i) => {
              const part = { partNumber: i + 1, sizeBytes: Math.min(partSize, file.sizeBytes - i * partSize) };
              const uploadUrl = await this.storage.presignUploadPart(file.key, { uploadId: file.uploadId!, partNumber: part.partNumber, contentLength: part.sizeBytes, expiresInSeconds: ttl });
              return { ...part, uploadUrl };
            }),
          );
          targets.push({
            fileId: file.id,
            filename: file.filename,
            multipart: { uploadId: file.uploadId!, partSizeBytes: partSize, parts },
            expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
          });
        } else {
          const put = await this.storage.presignPut(file.key, { contentLength: file.sizeBytes, contentType: file.contentType, expiresInSeconds: ttl });
          targets.push({ fileId: file.id, filename: file.filename, method: 'PUT', uploadUrl: put.url, headers: put.headers, expiresAt: put.expiresAt });
        }
      }
      await this.dataSource.transaction(async (m) => {
        await m.query(
          `INSERT INTO datasets (id, team_id, created_by, name, description, profile, options, status, file_count, total_bytes, upload_expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, now() + make_interval(secs => $10))`,
          [datasetId, teamId, actor.userId, input.datasetName, input.description ?? null, input.profile, JSON.stringify(input.options ?? {}),
            files.length, files.reduce((sum, f) => sum + f.sizeBytes, 0), ttl],
        );
        await m.query(
          `INSERT INTO dataset_files (id, dataset_id, position, filename, content_type, size_bytes, declared_sha256, object_key, multipart_upload_id, status)
           SELECT u.id, $1, u.position, u.filename, u.content_type, u.size_bytes, u.sha256, u.object_key, u.upload_id, 'pending'
           FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
             AS u(id, position, filename, content_type, size_bytes, sha256, object_key, upload_id)`,
          [datasetId, files.map((f) => f.id), files.map((f) => f.position), files.map((f) => f.filename), files.map((f) => f.contentType),
            files.map((f) => f.sizeBytes), files.map((f) => f.sha256?.toLowerCase() ?? null), files.map((f) => f.key), files.map((f) => f.uploadId)],
        );
      });
    } catch (error) {
      await this.abortMultipart(files.filter((f) => f.uploadId).map((f) => ({ key: f.key, uploadId: f.uploadId! })));
      throw storageError(error);
    }
    await this.sessions.open(datasetId, { teamId, userId: actor.userId, fileCount: files.length }, ttl);
    return { datasetId, expiresIn: ttl, files: targets };
  }

  /**
   * Completes multipart uploads, checks every object (present, of the declared size: one
   * listing of the dataset's prefix) and, when all are there, queues validation: status,
   * job and the `dataset.uploaded` event in one transaction. Idempotent: a completed
   * dataset answers its job again.
   */
  async complete(input: CompleteUploadDto, actor: RpcActor): Promise<CompleteUploadResult> {
    const dataset = await this.findScoped(input.datasetId, actor);
    if (dataset.status !== 'pending') return completed(dataset, false);
    const files = await this.files(dataset.id);
    const problems: RpcFieldError[] = [];
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
      // One listing of the dataset's prefix shows every object and its size: a request per
      // 1000 files rather than a HEAD per file, which a busy S3 answers slowly.
      const listed = new Map((await this.storage.list(datasetPrefix(dataset.id))).map((o) => [o.key, o]));
      const refused = new Set(problems.map((p) => p.path));
      for (const file of files) {
        if (refused.has(file.filename)) continue;
        const object = listed.get(file.object_key);
        if (!object) {
          // A multipart upload completed by an earlier call (whose other checks failed) is listed; otherwise its parts are needed.
          const message = file.multipart_upload_id && !parts.has(file.id) ? 'is a multipart upload; its parts and ETags are needed' : 'was not uploaded';
          problems.push({ path: file.filename, message });
        } else if (object.sizeBytes !== Number(file.size_bytes)) {
          problems.push({ path: file.filename, message: `has ${object.sizeBytes} bytes, but ${file.size_bytes} were declared` });
        }
      }
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
         WHERE id = $1 AND status = 'pending' RETURNING *`,
        [dataset.id, jobId],
      )) as [DatasetRow[], number];
      const row = rows[0][0];
      if (!row) return undefined;
      await m.query(`UPDATE dataset_files SET status = 'uploaded' WHERE dataset_id = $1`, [dataset.id]);
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
      await this.outbox.add(m, DatasetEvents.Uploaded, data);
      return row;
    });
    if (!queued) return completed(await this.findScoped(input.datasetId, actor), false);
    this.outbox.flush();
    await this.sessions.close(dataset.id).catch((error: unknown) => this.logger.warn(`upload session of ${dataset.id} not closed: ${String(error)}`));
    this.uploadCount.inc(files.length);
    this.uploadBytes.inc(files.reduce((sum, f) => sum + Number(f.size_bytes), 0));
    return completed(queued, true);
  }

  /** The caller's team's datasets, newest first; with `scope: 'all'` (administrators) every team's, each with its `teamId`. */
  async list(actor: RpcActor, options: { cursor?: string; limit?: number; scope?: 'team' | 'all' }): Promise<DatasetList> {
    const limit = options.limit ?? 20;
    const cursor = options.cursor ? decodePageCursor(options.cursor) : undefined;
    if (cursor === null) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'cursor', message: 'cursor is not valid' }]);
    const all = options.scope === 'all';
    if (all && actor.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators list every team\'s datasets.');
    if (!all && !actor.teamId) return { items: [], nextCursor: null };
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if (!all) where.push(`team_id = $${params.push(actor.teamId)}`);
    if (cursor) where.push(`(created_at, id) < ($${params.push(cursor.createdAt)}, $${params.push(cursor.id)})`);
    const rows = (await this.dataSource.query(
      `SELECT * FROM datasets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $1`,
      params,
    )) as DatasetRow[];
    const page = rows.slice(0, limit);
    return {
      items: page.map((row): DatasetSummary | TeamDatasetSummary => (all ? { ...summary(row), teamId: row.team_id } : summary(row))),
      nextCursor: rows.length > limit ? encodePageCursor({ createdAt: page[page.length - 1]!.created_at, id: page[page.length - 1]!.id }) : null,
    };
  }

  async get(datasetId: string, actor: RpcActor): Promise<DatasetDetail> {
    const dataset = await this.findScoped(datasetId, actor);
    const files = await this.files(datasetId);
    const shas = [...new Set(files.map((f) => f.sha256).filter((s): s is string => !!s))];
    const twins =
      shas.length === 0
        ? []
        : ((await this.dataSource.query(
            `SELECT f.id, f.dataset_id, f.filename, f.sha256 FROM dataset_files f JOIN datasets d ON d.id = f.dataset_id
             WHERE d.team_id = $1 AND f.sha256 = ANY($2::text[]) ORDER BY d.created_at, f.position`,
            [dataset.team_id, shas],
          )) as { id: string; dataset_id: string; filename: string; sha256: string }[]);
    const view = (f: FileRow): DatasetFileView => ({
      id: f.id,
      filename: f.filename,
      sizeBytes: Number(f.size_bytes),
      contentType: f.content_type,
      sha256: f.sha256,
      md5: f.md5,
      status: f.status,
      sameContentAs: twins.filter((t) => t.sha256 === f.sha256 && t.id !== f.id).map((t) => ({ datasetId: t.dataset_id, fileId: t.id, filename: t.filename })),
    });
    return {
      ...summary(dataset),
      teamId: dataset.team_id,
      description: dataset.description,
      options: dataset.options,
      updatedAt: dataset.updated_at.toISOString(),
      files: files.map(view),
      latestJob: dataset.job_id ? { id: dataset.job_id, status: jobStatus(dataset.status), queuedAt: dataset.queued_at!.toISOString() } : null,
    };
  }

  /** A short-lived presigned GET of one uploaded file. */
  async download(datasetId: string, fileId: string, actor: RpcActor): Promise<DownloadLink> {
    await this.findScoped(datasetId, actor);
    const [file] = (await this.dataSource.query(`SELECT * FROM dataset_files WHERE id = $1 AND dataset_id = $2`, [fileId, datasetId])) as FileRow[];
    if (!file) throw new RpcError('NOT_FOUND', `File ${fileId} is not part of dataset ${datasetId}.`);
    if (file.status !== 'uploaded') throw new RpcError('CONFLICT', `${file.filename} has not been uploaded yet.`);
    try {
      return await this.storage.presignGet(file.object_key, { expiresInSeconds: this.env.DOWNLOAD_URL_TTL_SECONDS, downloadFilename: file.filename });
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * Removes the objects (files and reports), then the rows, and announces
   * `dataset.deleted` so a running validation stops. Safe to repeat after a failure.
   */
  async delete(datasetId: string, actor: RpcActor): Promise<void> {
    const dataset = await this.findScoped(datasetId, actor);
    const files = await this.files(datasetId);
    try {
      await this.abortMultipart(files.filter((f) => f.status === 'pending' && f.multipart_upload_id).map((f) => ({ key: f.object_key, uploadId: f.multipart_upload_id! })));
      await this.storage.deletePrefix(datasetPrefix(datasetId));
      await this.storage.deletePrefix(`reports/${datasetId}/`);
    } catch (error) {
      throw storageError(error);
    }
    const deleted = await this.dataSource.transaction(async (m) => {
      const [rows] = (await m.query(`DELETE FROM datasets WHERE id = $1 RETURNING id`, [datasetId])) as [unknown[], number];
      if (rows.length === 0) return false;
      const data: DatasetDeletedData = { datasetId, teamId: dataset.team_id, deletedBy: actor.userId };
      await this.outbox.add(m, DatasetEvents.Deleted, data);
      return true;
    });
    if (deleted) this.outbox.flush();
    await this.sessions.close(datasetId).catch(() => undefined);
  }

  /**
   * Deletes every dataset created before `before`, and every upload abandoned: still
   * `pending` a day after its upload URLs expired. In rounds of {@link PURGE_BATCH}, oldest
   * first: the objects (files, reports; unfinished multipart uploads aborted), then in one
   * transaction the rows and a `dataset.deleted` event each. Administrators only. Safe to
   * repeat after a failure: a round whose objects could not all be deleted keeps its rows.
   */
  async purge(before: Date, actor: RpcActor): Promise<PurgeResult> {
    if (actor.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators purge datasets.');
    const result: PurgeResult = { datasetsDeleted: 0, objectsDeleted: 0, bytesFreed: 0 };
    let after: { created_at: Date; id: string } | undefined;
    for (;;) {
      const params: unknown[] = [before, PURGE_BATCH];
      if (after) params.push(after.created_at, after.id);
      const batch = (await this.dataSource.query(
        `SELECT id, created_at FROM datasets
         WHERE (created_at < $1 OR (status = 'pending' AND upload_expires_at < now() - interval '1 day'))
           ${after ? 'AND (created_at, id) > ($3, $4)' : ''}
         ORDER BY created_at, id LIMIT $2`,
        params,
      )) as { id: string; created_at: Date }[];
      if (batch.length === 0) break;
      const ids = batch.map((row) => row.id);
      const unfinished = (await this.dataSource.query(
        `SELECT object_key, multipart_upload_id FROM dataset_files
         WHERE dataset_id = ANY($1::uuid[]) AND status = 'pending' AND multipart_upload_id IS NOT NULL`,
        [ids],
      )) as { object_key: string; multipart_upload_id: string }[];
      try {
        await this.abortMultipart(unfinished.map((f) => ({ key: f.object_key, uploadId: f.multipart_upload_id })));
        await mapLimit(ids, 8, async (id) => {
          // Read the counts first: `x += await …` would add to a value read before the wait.
          const files = await this.storage.deletePrefix(datasetPrefix(id));
          const reports = await this.storage.deletePrefix(`reports/${id}/`);
          result.objectsDeleted += files + reports;
        });
      } catch (error) {
        throw storageError(error);
      }
      const deleted = await this.dataSource.transaction(async (m) => {
        const [rows] = (await m.query(`DELETE FROM datasets WHERE id = ANY($1::uuid[]) RETURNING id, team_id, total_bytes`, [ids])) as [
          { id: string; team_id: string; total_bytes: string }[],
          number,
        ];
        for (const row of rows) {
          const data: DatasetDeletedData = { datasetId: row.id, teamId: row.team_id, deletedBy: actor.userId };
          await this.outbox.add(m, DatasetEvents.Deleted, data);
        }
        return rows;
      });
      if (deleted.length > 0) this.outbox.flush();
      result.datasetsDeleted += deleted.length;
      result.bytesFreed += deleted.reduce((sum, row) => sum + Number(row.total_bytes), 0);
      await Promise.all(ids.map((id) => this.sessions.close(id).catch(() => undefined)));
      if (batch.length < PURGE_BATCH) break;
      after = batch[batch.length - 1];
    }
    this.logger.log({ event: 'datasets.purged', before: before.toISOString(), by: actor.userId, ...result });
    return result;
  }

  /** Datasets per status (every status listed, 0 when none), and in all with their declared bytes. */
  async counts(): Promise<DatasetCounts> {
    const rows = (await this.dataSource.query(
      `SELECT status, count(*)::int AS n, COALESCE(sum(total_bytes), 0)::text AS bytes FROM datasets GROUP BY status`,
    )) as { status: DatasetStatus; n: number; bytes: string }[];
    const byStatus = Object.fromEntries(DATASET_STATUSES.map((status) => [status, 0])) as Record<DatasetStatus, number>;
    for (const row of rows) byStatus[row.status] = row.n;
    return {
      byStatus,
      total: rows.reduce((sum, row) => sum + row.n, 0),
      totalBytes: rows.reduce((sum, row) => sum + Number(row.bytes), 0),
    };
  }

  /** `validation.started`: the dataset is being validated (unless it moved on already). */
  async onValidationStarted(eventId: string, data: ValidationStartedData): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await markEventProcessed(m, { id: eventId, type: 'validation.started' }))) return;
      await m.query(`UPDATE datasets SET status = 'running', updated_at = clock_timestamp() WHERE id = $1 AND job_id = $2 AND status = 'queued'`, [
        data.datasetId,
        data.jobId,
      ]);
    });
  }

  /** `validation.completed`: the verdict, and the content address of every file. */
  async onValidationCompleted(eventId: string, data: ValidationCompletedData): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await markEventProcessed(m, { id: eventId, type: 'validation.completed' }))) return;
      await m.query(`UPDATE datasets SET status = $3, updated_at = clock_timestamp() WHERE id = $1 AND job_id = $2`, [data.datasetId, data.jobId, data.status]);
      if (data.files.length > 0) {
        await m.query(
          `UPDATE dataset_files f SET sha256 = u.sha256, md5 = u.md5
           FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, sha256, md5)
           WHERE f.id = u.id AND f.dataset_id = $1`,
          [data.datasetId, data.files.map((f) => f.fileId), data.files.map((f) => f.sha256), data.files.map((f) => f.md5)],
        );
      }
    });
  }

  /** API.md's filename, count, size and content-type rules, each problem listed. */
  private checkFiles(input: StartUploadDto): void {
    const problems: RpcFieldError[] = [];
    if (input.files.length === 0) problems.push({ path: 'files', message: 'at least one file is required' });
    if (input.files.length > this.env.UPLOAD_MAX_FILES) {
      problems.push({ path: 'files', message: `at most ${this.env.UPLOAD_MAX_FILES} files per dataset (got ${input.files.length})` });
    }
    const accepted = PROFILE_CONTENT_TYPES[input.profile];
    const seen = new Set<string>();
    input.files.forEach((file, i) => {
      const at = `files[${i}]`;
      const problem = filenameProblem(file.filename);
      if (problem) problems.push({ path: `${at}.filename`, message: `filename ${JSON.stringify(file.filename)} ${problem}` });
      else if (seen.has(file.filename)) problems.push({ path: `${at}.filename`, message: `filename ${JSON.stringify(file.filename)} appears more than once` });
      seen.add(file.filename);
      if (file.sizeBytes > this.env.UPLOAD_MAX_FILE_BYTES) {
        problems.push({ path: `${at}.sizeBytes`, message: `${file.sizeBytes} bytes is over the limit of ${this.env.UPLOAD_MAX_FILE_BYTES}` });
      } else if (Math.ceil(file.sizeBytes / this.env.UPLOAD_PART_SIZE_BYTES) > MAX_PARTS) {
        problems.push({ path: `${at}.sizeBytes`, message: `${file.sizeBytes} bytes needs more than ${MAX_PARTS} parts` });
      }
      const type = file.contentType.split(';')[0]!.trim().toLowerCase();
      if (!accepted.includes(type)) {
        problems.push({ path: `${at}.contentType`, message: `${type} is not accepted by profile ${input.profile}; accepted: ${accepted.join(', ')}` });
      }
    });
    if (problems.length > 0) throw new RpcError('UNPROCESSABLE', `The upload was refused: ${problems.length} problem(s) in the file list.`, problems);
  }

  /** Completes one multipart upload; returns the problem, if any, in the client's terms. */
  private async completeMultipart(file: FileRow, parts: { partNumber: number; etag: string }[]): Promise<string | undefined> {
    const expected = Math.ceil(Number(file.size_bytes) / this.env.UPLOAD_PART_SIZE_BYTES);
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

  private async abortMultipart(uploads: { key: string; uploadId: string }[]): Promise<void> {
    await Promise.all(
      uploads.map((u) => this.storage.abortMultipartUpload(u.key, u.uploadId).catch((e: unknown) => this.logger.warn(`abort of ${u.key} failed: ${String(e)}`))),
    );
  }

  /** The dataset if the caller may see it; another team's id is simply not found. */
  private async findScoped(datasetId: string, actor: RpcActor, runner: SqlRunner | EntityManager = this.dataSource): Promise<DatasetRow> {
    const [row] = (await runner.query(`SELECT * FROM datasets WHERE id = $1`, [datasetId])) as DatasetRow[];
    if (!row || !mayAccessTeam(actor, row.team_id)) throw new RpcError('NOT_FOUND', `Dataset ${datasetId} does not exist.`);
    return row;
  }

  private async files(datasetId: string): Promise<FileRow[]> {
    return (await this.dataSource.query(`SELECT * FROM dataset_files WHERE dataset_id = $1 ORDER BY position`, [datasetId])) as FileRow[];
  }
}

function summary(row: DatasetRow): DatasetSummary {
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

function completed(row: DatasetRow, created: boolean): CompleteUploadResult {
  return { datasetId: row.id, validationJobId: row.job_id!, status: 'queued', created };
}

function jobStatus(status: DatasetStatus): ValidationJobStatus {
  return status === 'pending' ? 'queued' : status;
}

/** S3 being down is the caller's 503; anything else is a bug and stays a 500. */
function storageError(error: unknown): unknown {
  if (error instanceof StorageUnavailableError) return new RpcError('UNAVAILABLE', 'Object storage is not reachable; try again shortly.');
  return error;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
