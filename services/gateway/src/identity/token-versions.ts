import { Inject, Injectable, Logger, type OnModuleDestroy, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { DataSource, type EntityManager } from 'typeorm';
import { REVOCATION_CHECK } from '@flotilla/auth';
import { Naming } from '@flotilla/config';
import { REDIS } from '@flotilla/messaging';
import { revocationCheck, type VersionCache } from './revocation.check.js';
import { User } from './user.entity.js';

/**
 * How long a published version is kept in Redis: longer than any access token can live
 * (JWT_ACCESS_TTL_SECONDS is at most a day), so every token older than the version has
 * expired by the time the key does, and a missing key means version 0 safely.
 */
const VERSION_TTL_MS = 86_400_000 + 60_000;
/** Publishes that failed (Redis away) are tried again this often, at most this many users at once. */
const REPUBLISH_EVERY_MS = 1000;
const MAX_UNPUBLISHED = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sets the key to the version unless it already holds a higher one: versions never go back. */
const PUBLISH_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local version = tonumber(ARGV[1])
if version > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return version
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return current`;

/**
 * Raises a user's token version in the caller's transaction, ending every access token
 * issued before; answers the new version, or undefined when there is no such user.
 * Publish it with {@link TokenVersions.publish} once the transaction has committed.
 */
export async function raiseTokenVersion(manager: EntityManager, userId: string): Promise<number | undefined> {
  const result = await manager
    .createQueryBuilder()
    .update(User)
    .set({ tokenVersion: () => 'token_version + 1' })
    .where('id = :userId', { userId })
    .returning('token_version')
    .execute();
  const row = (result.raw as Array<{ token_version: number }>)[0];
  return row?.token_version;
}

/**
 * Users' token versions: Postgres (`users.token_version`) holds them, raised in the
 * transaction of whatever ends a user's tokens; Redis carries them to every gateway
 * instance (key `auth:token-version:<userId>` under the installation's prefix), where
 * {@link check} compares each token's `ver` with them. When Redis is unreachable the
 * versions are read from Postgres instead, and publishes that failed are repeated until
 * Redis takes them.
 */
@Injectable()
export class TokenVersions implements OnModuleDestroy {
  private readonly logger = new Logger(TokenVersions.name);
  /** The check the token verifier runs (REVOCATION_CHECK). */
  readonly check: VersionCache;
  private readonly unpublished = new LRUCache<string, number>({ max: MAX_UNPUBLISHED });
  private republishing: NodeJS.Timeout | undefined;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
    private readonly dataSource: DataSource,
  ) {
    this.check = revocationCheck((ids) => this.fetch(ids));
  }

  /**
   * Makes a version raised by {@link raiseTokenVersion} (committed) known: at once on this
   * instance, through Redis on the others. Never throws: a version Redis does not take now
   * is published again every second, and meanwhile the other instances read Postgres
   * (Redis being unreachable to them too) or see it when the retry succeeds.
   */
  async publish(userId: string, version: number): Promise<void> {
    this.check.learn(userId, version);
    try {
      await this.redis.eval(PUBLISH_SCRIPT, 1, this.key(userId), version, VERSION_TTL_MS);
    } catch (error) {
      this.logger.error(`token version ${version} of user ${userId} not published (${error instanceof Error ? error.message : String(error)}); retrying`);
      this.unpublished.set(userId, Math.max(version, this.unpublished.get(userId) ?? 0));
      this.republishing ??= setInterval(() => void this.republish(), REPUBLISH_EVERY_MS).unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.republishing);
  }

  private key(userId: string): string {
    return this.naming.key(`auth:token-version:${userId}`);
  }

  private async republish(): Promise<void> {
    for (const [userId, version] of [...this.unpublished.entries()]) {
      try {
        await this.redis.eval(PUBLISH_SCRIPT, 1, this.key(userId), version, VERSION_TTL_MS);
        if (this.unpublished.get(userId) === version) this.unpublished.delete(userId);
      } catch {
        return;
      }
    }
    if (this.unpublished.size === 0) {
      clearInterval(this.republishing);
      this.republishing = undefined;
    }
  }

  private async fetch(userIds: string[]): Promise<Array<number | null>> {
    try {
      const values = await this.redis.mget(userIds.map((id) => this.key(id)));
      return values.map((v) => (v === null ? null : Number(v)));
    } catch {
      return this.fromPostgres(userIds);
    }
  }

  /** The versions Postgres holds (the truth Redis mirrors); null for a user it does not have. */
  private async fromPostgres(userIds: string[]): Promise<Array<number | null>> {
    const ids = userIds.filter((id) => UUID.test(id));
    const rows = ids.length === 0 ? [] : ((await this.dataSource.query(`SELECT id, token_version FROM users WHERE id = ANY($1::uuid[])`, [ids])) as Array<{ id: string; token_version: number }>);
    const byId = new Map(rows.map((r) => [r.id, r.token_version]));
    return userIds.map((id) => byId.get(id) ?? null);
  }
}

/** The token verifier's revocation check: the token versions of {@link TokenVersions}. */
export const revocationCheckProvider: Provider = {
  provide: REVOCATION_CHECK,
  inject: [TokenVersions],
  useFactory: (versions: TokenVersions) => versions.check,
};
