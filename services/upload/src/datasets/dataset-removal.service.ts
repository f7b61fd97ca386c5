import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV } from '@flotilla/config';
import { DatasetEvents, RpcError, type DatasetDeletedData, type RpcActor } from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import { ObjectStorage } from '@flotilla/storage';
import { datasetPrefix, DatasetRecords, storageError } from './dataset-records.js';
import type { UploadEnv } from '../upload.env.js';
import { abortMultipartUploads } from './multipart.js';
import { rememberDeletedPrefixes } from './removed-prefixes.js';
import { UploadSessions } from './upload-sessions.js';

/** Datasets a purge removes per round: objects, then rows and events in one transaction. */
const PURGE_BATCH = 100;

/** What `upload.purge` removed. */
export interface PurgeResult {
  datasetsDeleted: number;
  objectsDeleted: number;
  bytesFreed: number;
}

/** Deleting a dataset, and purging old or abandoned ones: objects first, then rows and a `dataset.deleted` event. */
@Injectable()
export class DatasetRemovalService {
  private readonly logger = new Logger(DatasetRemovalService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly records: DatasetRecords,
    private readonly sessions: UploadSessions,
    private readonly outbox: Outbox,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}

  /**
   * Removes the objects (files and reports), then the rows, and announces
   * `dataset.deleted` so a running validation stops. Safe to repeat after a failure.
   * The dataset's prefix is swept again until its upload URLs expired, so a PUT to one
   * of them after the delete leaves nothing behind.
   */
  async delete(datasetId: string, actor: RpcActor): Promise<void> {
    const dataset = await this.records.findScoped(datasetId, actor);
    const files = await this.records.files(datasetId);
    try {
      await abortMultipartUploads(this.storage, this.logger, files.filter((f) => f.status === 'pending' && f.multipart_upload_id).map((f) => ({ key: f.object_key, uploadId: f.multipart_upload_id! })));
      await this.storage.deletePrefix(datasetPrefix(datasetId));
      await this.storage.deletePrefix(`reports/${datasetId}/`);
    } catch (error) {
      throw storageError(error);
    }
    const deleted = await this.dataSource.transaction(async (m) => {
      await rememberDeletedPrefixes(m, [datasetId], this.env.UPLOAD_EXPIRY_GRACE_SECONDS);
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
        await abortMultipartUploads(this.storage, this.logger, unfinished.map((f) => ({ key: f.object_key, uploadId: f.multipart_upload_id })));
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
        await rememberDeletedPrefixes(m, ids, this.env.UPLOAD_EXPIRY_GRACE_SECONDS);
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
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
