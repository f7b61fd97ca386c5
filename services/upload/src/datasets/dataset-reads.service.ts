import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV } from '@flotilla/config';
import {
  decodePageCursor,
  encodePageCursor,
  RpcError,
  type DatasetDetail,
  type DatasetFileView,
  type DatasetList,
  type DatasetStatus,
  type DatasetSummary,
  type DownloadLink,
  type RpcActor,
} from '@flotilla/contracts';
import { ObjectStorage } from '@flotilla/storage';
import type { UploadEnv } from '../upload.env.js';
import { bareEtag } from './settle-objects.js';
import { DatasetRecords, jobStatus, storageError, summary, type DatasetRow, type FileRow } from './dataset-records.js';

const DATASET_STATUSES: readonly DatasetStatus[] = ['pending', 'queued', 'running', 'passed', 'failed', 'error'];

/** A dataset in an every-team list: the summary and whose it is. */
export interface TeamDatasetSummary extends DatasetSummary {
  teamId: string;
}

/** What `upload.counts` answers. */
export interface DatasetCounts {
  byStatus: Record<DatasetStatus, number>;
  total: number;
  totalBytes: number;
}

/** Reading datasets: lists, one dataset with its files, a file's download link, counts per status. */
@Injectable()
export class DatasetReadsService {
  private readonly logger = new Logger(DatasetReadsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly records: DatasetRecords,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}

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
    const dataset = await this.records.findScoped(datasetId, actor);
    const files = await this.records.files(datasetId);
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

  /** A short-lived presigned GET of one uploaded file, while it is the object that was validated. */
  async download(datasetId: string, fileId: string, actor: RpcActor): Promise<DownloadLink> {
    await this.records.findScoped(datasetId, actor);
    const [file] = (await this.dataSource.query(`SELECT * FROM dataset_files WHERE id = $1 AND dataset_id = $2`, [fileId, datasetId])) as FileRow[];
    if (!file) throw new RpcError('NOT_FOUND', `File ${fileId} is not part of dataset ${datasetId}.`);
    if (file.status !== 'uploaded') throw new RpcError('CONFLICT', `${file.filename} has not been uploaded yet.`);
    try {
      // No upload URL names the object key, so its bytes are those validated; the HEAD
      // against the ETag recorded at completion makes that a checked fact rather than an
      // assumption (a write with the service's own credentials, a store restored from
      // elsewhere), for one request per link.
      if (file.etag) {
        const head = await this.storage.head(file.object_key);
        if (!head || bareEtag(head.etag) !== file.etag) {
          this.logger.error({ event: 'dataset.object_changed', datasetId, fileId, key: file.object_key, recorded: file.etag, found: head ? bareEtag(head.etag) : null });
          throw new RpcError('CONFLICT', `${file.filename} is no longer the object that was validated; it is not served.`);
        }
      }
      return await this.storage.presignGet(file.object_key, { expiresInSeconds: this.env.DOWNLOAD_URL_TTL_SECONDS, downloadFilename: file.filename });
    } catch (error) {
      throw storageError(error);
    }
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
}
