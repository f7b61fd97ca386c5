import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ENV } from '@flotilla/config';
import { RpcError, type QuotaExceeded, type TeamQuotaLimits, type TeamQuotaView } from '@flotilla/contracts';
import type { UploadEnv } from '../upload.env.js';

/**
 * How long a start's reservation counts before its dataset is recorded: signing the URLs
 * of a large multipart dataset takes a while; a start that failed stops counting after it.
 */
const RESERVATION_SECONDS = 600;

type LimitColumns = { max_stored_bytes: string | null; max_dataset_bytes: string | null; max_files_per_dataset: number | null; max_concurrent_uploads: number | null };

/**
 * What a team may hold: stored bytes (completed datasets and uploads still pending), bytes
 * and files per dataset, datasets pending upload at once. Checked at `upload/start`,
 * under a per-team advisory lock, with a reservation that makes the start count for the
 * next one before its dataset row exists.
 */
@Injectable()
export class TeamQuotas {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}

  /**
   * Refuses (422, each limit exceeded named with its maximum, the usage and what was asked)
   * or reserves the dataset's bytes and one concurrent upload for the team.
   */
  async reserve(teamId: string, datasetId: string, files: { sizeBytes: number }[]): Promise<void> {
    const requestedBytes = files.reduce((sum, f) => sum + f.sizeBytes, 0);
    await this.dataSource.transaction(async (m) => {
      // Serialises the starts of one team (other teams go on): the usage read below
      // then includes every reservation committed before.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('upload.quota'), hashtext($1))`, [teamId]);
      // Reservations whose dataset was recorded (it counts itself now) or that expired.
      await m.query(
        `DELETE FROM quota_reservations r WHERE r.team_id = $1 AND (r.expires_at <= now() OR EXISTS (SELECT 1 FROM datasets d WHERE d.id = r.dataset_id))`,
        [teamId],
      );
      const limits = await this.limits(m, teamId);
      const usage = await this.usage(m, teamId);
      const exceeded: QuotaExceeded[] = [];
      const check = (limit: QuotaExceeded['limit'], max: number, used: number, requested: number, what: string) => {
        if (used + requested > max) {
          exceeded.push({ path: 'files', limit, max, used, requested, message: `${what}: ${used} used + ${requested} requested is over the limit of ${max}` });
        }
      };
      check('filesPerDataset', limits.maxFilesPerDataset, 0, files.length, 'files per dataset');
      check('datasetBytes', limits.maxDatasetBytes, 0, requestedBytes, 'bytes per dataset');
      check('storedBytes', limits.maxStoredBytes, usage.storedBytes, requestedBytes, 'stored bytes');
      check('concurrentUploads', limits.maxConcurrentUploads, usage.concurrentUploads, 1, 'uploads pending at once');
      if (exceeded.length > 0) {
        throw new RpcError('UNPROCESSABLE', `Over the team's quota: ${exceeded.map((e) => e.message).join('; ')}.`, exceeded);
      }
      await m.query(
        `INSERT INTO quota_reservations (dataset_id, team_id, bytes, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
        [datasetId, teamId, requestedBytes, RESERVATION_SECONDS],
      );
    });
  }

  /** Limits and usage of a team. */
  async view(teamId: string): Promise<TeamQuotaView> {
    return this.dataSource.transaction(async (m) => {
      const overrides = await this.overrides(m, teamId);
      return { teamId, limits: this.withDefaults(overrides), overrides, usage: await this.usage(m, teamId) };
    });
  }

  /** Sets the given limits; `null` clears an override (the default applies again), an absent one stays. */
  async set(teamId: string, changes: Partial<Record<keyof TeamQuotaLimits, number | null>>): Promise<TeamQuotaView> {
    const given = (key: keyof TeamQuotaLimits) => changes[key] !== undefined;
    if (!(['maxStoredBytes', 'maxDatasetBytes', 'maxFilesPerDataset', 'maxConcurrentUploads'] as const).some(given)) {
      throw new RpcError('VALIDATION', 'Name at least one limit to set (null falls back to the default).', [{ path: '', message: 'no limit given' }]);
    }
    await this.dataSource.query(
      `INSERT INTO team_quotas AS q (team_id, max_stored_bytes, max_dataset_bytes, max_files_per_dataset, max_concurrent_uploads)
       VALUES ($1, $3, $5, $7, $9)
       ON CONFLICT (team_id) DO UPDATE SET
         max_stored_bytes = CASE WHEN $2 THEN EXCLUDED.max_stored_bytes ELSE q.max_stored_bytes END,
         max_dataset_bytes = CASE WHEN $4 THEN EXCLUDED.max_dataset_bytes ELSE q.max_dataset_bytes END,
         max_files_per_dataset = CASE WHEN $6 THEN EXCLUDED.max_files_per_dataset ELSE q.max_files_per_dataset END,
         max_concurrent_uploads = CASE WHEN $8 THEN EXCLUDED.max_concurrent_uploads ELSE q.max_concurrent_uploads END,
         updated_at = now()`,
      [teamId, given('maxStoredBytes'), changes.maxStoredBytes ?? null, given('maxDatasetBytes'), changes.maxDatasetBytes ?? null,
        given('maxFilesPerDataset'), changes.maxFilesPerDataset ?? null, given('maxConcurrentUploads'), changes.maxConcurrentUploads ?? null],
    );
    return this.view(teamId);
  }

  private async limits(m: EntityManager, teamId: string): Promise<TeamQuotaLimits> {
    return this.withDefaults(await this.overrides(m, teamId));
  }

  private withDefaults(overrides: Partial<TeamQuotaLimits>): TeamQuotaLimits {
    return {
      maxStoredBytes: overrides.maxStoredBytes ?? this.env.QUOTA_MAX_STORED_BYTES,
      maxDatasetBytes: overrides.maxDatasetBytes ?? this.env.QUOTA_MAX_DATASET_BYTES,
      maxFilesPerDataset: overrides.maxFilesPerDataset ?? this.env.QUOTA_MAX_FILES_PER_DATASET,
      maxConcurrentUploads: overrides.maxConcurrentUploads ?? this.env.QUOTA_MAX_CONCURRENT_UPLOADS,
    };
  }

  private async overrides(m: EntityManager, teamId: string): Promise<Partial<TeamQuotaLimits>> {
    const rows = (await m.query(
      `SELECT max_stored_bytes, max_dataset_bytes, max_files_per_dataset, max_concurrent_uploads FROM team_quotas WHERE team_id = $1`,
      [teamId],
    )) as LimitColumns[];
    const row = rows[0];
    if (!row) return {};
    const out: Partial<TeamQuotaLimits> = {};
    if (row.max_stored_bytes !== null) out.maxStoredBytes = Number(row.max_stored_bytes);
    if (row.max_dataset_bytes !== null) out.maxDatasetBytes = Number(row.max_dataset_bytes);
    if (row.max_files_per_dataset !== null) out.maxFilesPerDataset = row.max_files_per_dataset;
    if (row.max_concurrent_uploads !== null) out.maxConcurrentUploads = row.max_concurrent_uploads;
    return out;
  }

  /**
   * Completed datasets' bytes, plus the declared bytes of uploads still pending (an
   * abandoned one stops counting once the sweep cleared it), plus live reservations of
   * starts not recorded yet. Deleted datasets have no row and count for nothing.
   */
  private async usage(m: EntityManager, teamId: string): Promise<TeamQuotaView['usage']> {
    const [row] = (await m.query(
      `SELECT coalesce(sum(bytes), 0)::text AS stored, count(*) FILTER (WHERE pending)::int AS pending FROM (
         SELECT total_bytes AS bytes, status = 'pending' AS pending FROM datasets
          WHERE team_id = $1 AND (status <> 'pending' OR upload_cleared_at IS NULL)
         UNION ALL
         SELECT r.bytes, true FROM quota_reservations r
          WHERE r.team_id = $1 AND r.expires_at > now() AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.id = r.dataset_id)
       ) AS counted`,
      [teamId],
    )) as { stored: string; pending: number }[];
    return { storedBytes: Number(row!.stored), concurrentUploads: row!.pending };
  }
}
