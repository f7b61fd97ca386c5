import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { ENV, Naming } from '@flotilla/config';
import {
  encodeStatusSnapshot,
  STATUS_SNAPSHOT_DELETED,
  STATUS_SNAPSHOT_DELETED_TTL_SECONDS,
  statusSnapshotKey,
  type ValidationJobStatus,
  type ValidationStatus,
} from '@flotilla/contracts';
import { createRedisClient } from '@flotilla/messaging';
import { throttledWarning } from '@flotilla/observability';
import { ObjectStorage } from '@flotilla/storage';
import type { ValidatorEnv } from '../validator.env.js';

/** Longest a snapshot of a job without a report lives (a finished job never changes; deletion writes a marker). */
const SNAPSHOT_MAX_SECONDS = 300;
/** Report links remembered at most (one per finished job recently asked for). */
const MAX_LINKS = 10_000;
/** Statuses that never change again: `error` may be replayed, so it is not kept. */
const SETTLED: readonly ValidationJobStatus[] = ['passed', 'failed'];

/** Writes the snapshot unless the dataset's deletion marker is there. */
const SET_UNLESS_DELETED = `
if redis.call('GET', KEYS[1]) == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
`;

type SetUnlessDeleted = (key: string, value: string, deleted: string, ttlSeconds: number) => Promise<number>;

/**
 * The read model behind the gateway's status polling (see `statusSnapshotKey` in
 * contracts): the status of a settled job (`passed`/`failed`) with its team and version,
 * in Redis, so a poll costs the gateway one GET. Written when the validator answers a
 * status, removed (as a deletion marker) when the dataset is deleted. Also presigns a
 * job's report link once and reuses it while at least half its lifetime is left, so a
 * link handed out, from here or from the snapshot, is always valid for at least half of
 * `REPORT_URL_TTL_SECONDS`; a snapshot expires when its link would be renewed.
 *
 * Best effort: the snapshot is a copy, and the gateway asks the validator when it is
 * missing, so a Redis that is down only costs the fast path. Its own connection, so
 * Redis does not become part of the validator's readiness.
 */
@Injectable()
export class StatusSnapshots implements OnApplicationShutdown {
  private readonly warning = throttledWarning(new Logger(StatusSnapshots.name));
  private readonly redis: Redis;
  private readonly setUnlessDeleted: SetUnlessDeleted;
  /** Report links by job, least recently used dropped past MAX_LINKS, each gone when it expires. */
  private readonly links: LRUCache<string, { url: string; expiresAt: number }>;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly naming: Naming,
    @Inject(ENV) private readonly env: ValidatorEnv,
  ) {
    this.links = new LRUCache({ max: MAX_LINKS, ttl: env.REPORT_URL_TTL_SECONDS * 1000 });
    this.redis = createRedisClient(env.REDIS_URL, { connectionName: 'validator-status' });
    this.redis.defineCommand('flotillaSetUnlessDeleted', { numberOfKeys: 1, lua: SET_UNLESS_DELETED });
    this.setUnlessDeleted = (this.redis as unknown as { flotillaSetUnlessDeleted: SetUnlessDeleted }).flotillaSetUnlessDeleted.bind(this.redis);
  }

  /** The report link of a finished job: presigned once, reused while half its lifetime is left. */
  async reportUrl(jobId: string, reportKey: string, now = Date.now()): Promise<{ url: string; expiresAt: number }> {
    const known = this.links.get(jobId);
    if (known && known.expiresAt - now >= this.halfLifeMs) return known;
    const { url } = await this.storage.presignGet(reportKey, { expiresInSeconds: this.env.REPORT_URL_TTL_SECONDS });
    const link = { url, expiresAt: now + this.env.REPORT_URL_TTL_SECONDS * 1000 };
    this.links.set(jobId, link);
    return link;
  }

  /**
   * Keeps the answer to a status request for the gateway, when the job is settled; not
   * awaited by callers that answer anyway. `linkExpiresAt`: when the report link in it expires.
   */
  async publish(teamId: string, version: string, status: ValidationStatus, linkExpiresAt?: number, now = Date.now()): Promise<void> {
    if (!SETTLED.includes(status.status)) return;
    const ttl = linkExpiresAt === undefined ? SNAPSHOT_MAX_SECONDS : Math.floor((linkExpiresAt - now - this.halfLifeMs) / 1000);
    if (ttl < 1) return;
    try {
      await this.setUnlessDeleted(this.key(status.datasetId), encodeStatusSnapshot({ teamId, version, status }), STATUS_SNAPSHOT_DELETED, ttl);
    } catch (error) {
      this.warn('not written', error);
    }
  }

  /** Replaces a deleted dataset's snapshot by the deletion marker, so no late write brings it back. */
  async forget(datasetId: string): Promise<void> {
    try {
      await this.redis.set(this.key(datasetId), STATUS_SNAPSHOT_DELETED, 'EX', STATUS_SNAPSHOT_DELETED_TTL_SECONDS);
    } catch (error) {
      this.warn(`of deleted dataset ${datasetId} not removed`, error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private get halfLifeMs(): number {
    return (this.env.REPORT_URL_TTL_SECONDS * 1000) / 2;
  }

  private key(datasetId: string): string {
    return this.naming.key(statusSnapshotKey(datasetId));
  }

  private warn(what: string, error: unknown): void {
    this.warning(`status snapshot ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
