import { Inject, Injectable, Logger } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { REDIS } from '@flotilla/messaging';
import type { Redis } from 'ioredis';

export interface LimitCheck {
  /** Counter name, e.g. `ip:1.2.3.4`. */
  key: string;
  /** Hits allowed within the window; 0 means unlimited. */
  limit: number;
}

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until the window of the exhausted counter ends. */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters in Redis, shared by every gateway instance. All counters of a
 * check go in one pipeline, so a request costs one round trip. When Redis is down the
 * limiter lets requests through (and says so in the log) rather than failing the API.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private lastWarning = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
  ) {}

  /** Counts one hit on every counter and tells whether all are still within their limit. */
  async hit(checks: LimitCheck[], windowSeconds: number): Promise<LimitVerdict> {
    const active = checks.filter((c) => c.limit > 0);
    if (active.length === 0) return { allowed: true, retryAfterSeconds: 0 };
    const pipeline = this.redis.pipeline();
    for (const c of active) {
      const key = this.naming.key(`ratelimit:${c.key}`);
      pipeline.incr(key).expire(key, windowSeconds, 'NX');
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      let retryAfterSeconds = 0;
      active.forEach((c, i) => {
        const [error, count] = results[i * 2] ?? [];
        if (!error && Number(count) > c.limit) retryAfterSeconds = windowSeconds;
      });
      if (retryAfterSeconds > 0) retryAfterSeconds = await this.remaining(active, windowSeconds);
      return { allowed: retryAfterSeconds === 0, retryAfterSeconds };
    } catch (error) {
      this.warnUnavailable(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  /** Reads counters without counting a hit. */
  async exceeded(checks: LimitCheck[], windowSeconds: number): Promise<LimitVerdict> {
    try {
      const keys = checks.map((c) => this.naming.key(`ratelimit:${c.key}`));
      const counts = await this.redis.mget(...keys);
      const over = checks.some((c, i) => c.limit > 0 && Number(counts[i] ?? 0) >= c.limit);
      return over ? { allowed: false, retryAfterSeconds: await this.remaining(checks, windowSeconds) } : { allowed: true, retryAfterSeconds: 0 };
    } catch (error) {
      this.warnUnavailable(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.naming.key(`ratelimit:${key}`)).catch((error: unknown) => this.warnUnavailable(error));
  }

  private async remaining(checks: LimitCheck[], windowSeconds: number): Promise<number> {
    const ttls = await Promise.all(checks.map((c) => this.redis.ttl(this.naming.key(`ratelimit:${c.key}`))));
    return Math.max(1, Math.min(windowSeconds, Math.max(...ttls.map((t) => (t > 0 ? t : 1)))));
  }

  private warnUnavailable(error: unknown): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(`rate limits not enforced: Redis unavailable (${error instanceof Error ? error.message : String(error)})`);
  }
}
