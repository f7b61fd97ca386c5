import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV } from '@flotilla/config';
import { listMultipartUploads, ObjectStorage, putAbortIncompleteMultipartRule } from '@flotilla/storage';
import type { UploadEnv } from '../upload.env.js';
import { datasetPrefix } from './dataset-records.js';
import { abortMultipartUploads } from './multipart.js';
import { UploadSessions } from './upload-sessions.js';

/** Datasets or prefixes one sweep round takes. */
const SWEEP_BATCH = 100;

/** What one sweep did, for logs and tests. */
export interface SweepResult {
  uploadsCleared: number;
  prefixesSwept: number;
  objectsDeleted: number;
}

/**
 * Keeps the bucket to what the rows say, on a timer, in every replica at once:
 *
 * - An **abandoned upload** (still `pending` when its URLs expired, plus
 *   `UPLOAD_EXPIRY_GRACE_SECONDS`) has its multipart uploads aborted (the store keeps,
 *   and bills, their parts until then) and its objects deleted; the row stays for the
 *   purge, which removes it a day later.
 * - A **removed prefix** (a deleted dataset's, or a completed one's upload keys) is
 *   listed and emptied again until the dataset's upload URLs can no longer be used: a
 *   PUT to an old URL after the delete, or after completion, leaves nothing behind. The
 *   listing is the truth, not the rows: the rows are gone, the URLs are not.
 *
 * Rows are claimed with `FOR UPDATE SKIP LOCKED` and a timestamp moved forward in one
 * statement, so two replicas never take the same rows, and a replica that dies mid-round
 * leaves them to the next round. At start, the bucket gets an
 * `AbortIncompleteMultipartUpload` lifecycle rule where the store supports one.
 */
@Injectable()
export class StorageSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StorageSweep.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly sessions: UploadSessions,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureLifecycleRule();
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((error: unknown) => this.logger.warn(`storage sweep failed: ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, this.env.UPLOAD_SWEEP_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round of both sweeps. */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { uploadsCleared: 0, prefixesSwept: 0, objectsDeleted: 0 };
    await this.clearAbandonedUploads(result);
    await this.sweepRemovedPrefixes(result);
    if (result.uploadsCleared || result.objectsDeleted) this.logger.log({ event: 'storage.swept', ...result });
    return result;
  }

  private async clearAbandonedUploads(result: SweepResult): Promise<void> {
    const claimed = (await this.dataSource.query(
      `UPDATE datasets SET upload_cleared_at = clock_timestamp()
       WHERE id IN (SELECT id FROM datasets
                    WHERE status = 'pending' AND upload_cleared_at IS NULL AND upload_expires_at < now() - make_interval(secs => $1)
                    ORDER BY upload_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [this.env.UPLOAD_EXPIRY_GRACE_SECONDS, SWEEP_BATCH],
    )) as [{ id: string }[], number];
    for (const { id } of claimed[0]) {
      try {
        const files = (await this.dataSource.query(
          `SELECT object_key, multipart_upload_id FROM dataset_files WHERE dataset_id = $1 AND multipart_upload_id IS NOT NULL`,
          [id],
        )) as { object_key: string; multipart_upload_id: string }[];
        const uploads = files.map((f) => ({ key: f.object_key, uploadId: f.multipart_upload_id }));
        // The rows name every upload the service started; the store's own list also
        // catches one whose start was interrupted before its row was written.
        const listed = await listMultipartUploads(this.storage, datasetPrefix(id)).catch(() => []);
        for (const u of listed) if (!uploads.some((known) => known.uploadId === u.uploadId)) uploads.push(u);
        await abortMultipartUploads(this.storage, this.logger, uploads);
        result.objectsDeleted += await this.storage.deletePrefix(datasetPrefix(id));
        await this.sessions.close(id).catch(() => undefined);
        result.uploadsCleared++;
      } catch (error) {
        // Left for the next round.
        await this.dataSource.query(`UPDATE datasets SET upload_cleared_at = NULL WHERE id = $1`, [id]);
        this.logger.warn(`abandoned upload ${id} not cleared: ${String(error)}`);
      }
    }
  }

  private async sweepRemovedPrefixes(result: SweepResult): Promise<void> {
    const claimed = (await this.dataSource.query(
      `UPDATE removed_prefixes SET next_sweep_at = now() + make_interval(secs => $1)
       WHERE prefix IN (SELECT prefix FROM removed_prefixes WHERE next_sweep_at <= now() ORDER BY next_sweep_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING prefix, uploads_only, sweep_until < now() AS last`,
      [this.env.UPLOAD_SWEEP_INTERVAL_SECONDS, SWEEP_BATCH],
    )) as [{ prefix: string; uploads_only: boolean; last: boolean }[], number];
    for (const row of claimed[0]) {
      try {
        result.objectsDeleted += row.uploads_only ? await this.deleteUploadKeys(row.prefix) : await this.storage.deletePrefix(row.prefix);
        result.prefixesSwept++;
        // The last round began after every URL that could write here expired.
        if (row.last) await this.dataSource.query(`DELETE FROM removed_prefixes WHERE prefix = $1 AND sweep_until < now()`, [row.prefix]);
      } catch (error) {
        this.logger.warn(`prefix ${row.prefix} not swept: ${String(error)}`);
      }
    }
  }

  /**
   * A completed dataset keeps the objects its rows name; anything else under its prefix
   * is what a PUT to an old upload URL wrote after completion, and goes. (Deleted
   * meanwhile: no rows, everything goes, as the delete wants.)
   */
  private async deleteUploadKeys(prefix: string): Promise<number> {
    const datasetId = prefix.split('/')[1];
    const kept = new Set(
      ((await this.dataSource.query(`SELECT object_key FROM dataset_files WHERE dataset_id = $1`, [datasetId])) as { object_key: string }[]).map((r) => r.object_key),
    );
    const strays = (await this.storage.list(prefix)).filter((o) => !kept.has(o.key));
    for (const o of strays) await this.storage.deleteObject(o.key);
    return strays.length;
  }

  private async ensureLifecycleRule(): Promise<void> {
    try {
      const applied = await putAbortIncompleteMultipartRule(this.storage, this.env.UPLOAD_ABORT_INCOMPLETE_DAYS);
      if (applied) this.logger.log(`bucket ${this.storage.bucket}: unfinished multipart uploads aborted by the store after ${this.env.UPLOAD_ABORT_INCOMPLETE_DAYS} days`);
      else this.logger.warn(`bucket ${this.storage.bucket}: the store has no lifecycle rules; unfinished multipart uploads are aborted by the sweep only`);
    } catch (error) {
      this.logger.warn(`bucket ${this.storage.bucket}: lifecycle rule not set (${String(error)}); unfinished multipart uploads are aborted by the sweep only`);
    }
  }
}
