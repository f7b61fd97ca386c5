import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { REDIS } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';

/**
 * Upload sessions in Redis: from `upload/start` until `upload/complete` or until the
 * upload URLs expire (the key's TTL). A sorted set of session expiries gives the
 * number of uploads in progress without scanning keys.
 */
@Injectable()
export class UploadSessions {
  private readonly active: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
    metrics: MetricsService,
  ) {
    this.active = naming.key('upload-sessions');
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const sessions = this;
    metrics.gauge({
      name: 'concurrent_uploads',
      help: 'Upload sessions started and neither completed nor expired',
      async collect() {
        this.set(await sessions.count().catch(() => 0));
      },
    });
  }

  async open(datasetId: string, session: { teamId: string; userId: string; fileCount: number }, ttlSeconds: number): Promise<void> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    await this.redis
      .multi()
      .set(this.key(datasetId), JSON.stringify({ ...session, expiresAt }), 'EX', ttlSeconds)
      .zadd(this.active, expiresAt, datasetId)
      .exec();
  }

  /** True while the session's URLs are valid. */
  async isOpen(datasetId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(datasetId))) === 1;
  }

  async close(datasetId: string): Promise<void> {
    await this.redis.multi().del(this.key(datasetId)).zrem(this.active, datasetId).exec();
  }

  async count(): Promise<number> {
    const now = Date.now();
    const [, count] = (await this.redis.multi().zremrangebyscore(this.active, '-inf', now).zcard(this.active).exec()) ?? [];
    return Number(count?.[1] ?? 0);
  }

  private key(datasetId: string): string {
    return this.naming.key(`upload-session:${datasetId}`);
  }
}
