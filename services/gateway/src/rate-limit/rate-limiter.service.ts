import { Inject, Injectable, Logger } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { REDIS } from '@flotilla/messaging';
import { throttledWarning } from '@flotilla/observability';
import type { Redis } from 'ioredis';

export interface LimitCheck {
  /** Counter name, e.g. `ip:1.2.3.4`. */
  key: string;
  /** Hits allowed within the window; 0 means unlimited. */
  limit: number;
}

type LimitSettings = { RATE_LIMIT_PER_IP: number; RATE_LIMIT_PER_USER: number };

/** The counter every request is held to: its address's. */
export const ipLimit = (env: LimitSettings, ip: string): LimitCheck => ({ key: `ip:${ip}`, limit: env.RATE_LIMIT_PER_IP });

/** The counters a signed-in user's request is held to: its address's, then its user's. */
export const userLimits = (env: LimitSettings, ip: string, userId: string): [LimitCheck, LimitCheck] => [
  ipLimit(env, ip),
  { key: `user:${userId}`, limit: env.RATE_LIMIT_PER_USER },
];

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until the window of the exhausted counter ends. */
  retryAfterSeconds: number;
}

/**
 * Counts one hit on up to two counters (KEYS[1], KEYS[2]; ARGV[2], ARGV[3] their limits,
 * 0 skipping the counter; ARGV[1] the window) exactly as {@link RateLimiter.hit} does, and
 * only when both are within their limit goes on to `then`. Answers `{0, seconds}` with
 * the longest TTL of the counters when limited.
 */
const hitThen = (then: string): string => `
local window = tonumber(ARGV[1])
local limits = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
local over = false
for i = 1, 2 do
  if limits[i] > 0 then
    local count = redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], window, 'NX')
    if count > limits[i] then over = true end
  end
end
if over then
  local wait = 0
  for i = 1, 2 do
    if limits[i] > 0 then
      local ttl = redis.call('TTL', KEYS[i])
      if ttl <= 0 then ttl = 1 end
      if ttl > wait then wait = ttl end
    end
  end
  return { 0, wait }
end
${then}
`;

/** …then appends ARGV[4..] as an entry of the stream KEYS[3]: `{1, entry id}`. */
const HIT_THEN_APPEND = hitThen(`return { 1, redis.call('XADD', KEYS[3], '*', unpack(ARGV, 4)) }`);
/** …then reads the string KEYS[3]: `{1, value}`, or `{1}` when there is none. */
const HIT_THEN_GET = hitThen(`return { 1, redis.call('GET', KEYS[3]) }`);

/** A `hitThen` script's `{0, seconds}`: refused, with the counters' remaining window (1 s to the whole window). */
const refused = (windowSeconds: number, ttl: number | string | undefined): LimitVerdict => ({
  allowed: false,
  retryAfterSeconds: Math.max(1, Math.min(windowSeconds, Number(ttl))),
});

type HitThenGet = (ipKey: string, userKey: string, key: string, window: number, ipLimit: number, userLimit: number) => Promise<[0 | 1, (number | string)?]>;
type HitThenAppend = (ipKey: string, userKey: string, stream: string, window: number, ipLimit: number, userLimit: number, ...fields: string[]) => Promise<[0 | 1, number | string]>;

/**
 * Fixed-window counters in Redis, shared by every gateway instance. All counters of a
 * check go in one pipeline, so a request costs one round trip. When Redis is down the
 * limiter lets requests through (and says so in the log) rather than failing the API.
 */
@Injectable()
export class RateLimiter {
  private readonly warn = throttledWarning(new Logger(RateLimiter.name));

  private readonly hitThenAppendScript: HitThenAppend;
  private readonly hitThenGetScript: HitThenGet;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL once when Redis does not know the script yet.
    redis.defineCommand('flotillaHitThenAppend', { numberOfKeys: 3, lua: HIT_THEN_APPEND });
    this.hitThenAppendScript = (redis as unknown as { flotillaHitThenAppend: HitThenAppend }).flotillaHitThenAppend.bind(redis);
    redis.defineCommand('flotillaHitThenGet', { numberOfKeys: 3, lua: HIT_THEN_GET });
    this.hitThenGetScript = (redis as unknown as { flotillaHitThenGet: HitThenGet }).flotillaHitThenGet.bind(redis);
  }

  /**
   * One round trip for a request answered from a value in Redis: counts a hit on the
   * per-IP and per-user counters (as {@link hit}) and, when both are within their limits,
   * reads `key`. When Redis is unavailable it lets the request through without a value,
   * as {@link hit} does, for the caller to answer another way.
   */
  async hitThenGet(ip: LimitCheck, user: LimitCheck, windowSeconds: number, key: string): Promise<LimitVerdict & { value?: string }> {
    let answer: [0 | 1, (number | string)?];
    try {
      answer = await this.hitThenGetScript(...this.scriptArgs(ip, user, key, windowSeconds));
    } catch (error) {
      this.warnUnavailable(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const [allowed, value] = answer;
    if (allowed === 1) return { allowed: true, retryAfterSeconds: 0, ...(typeof value === 'string' ? { value } : {}) };
    return refused(windowSeconds, value);
  }

  /**
   * One round trip for a request that writes a stream entry: counts a hit on the per-IP and
   * per-user counters (as {@link hit}) and appends `fields` to `stream` only when both
   * are within their limits. Unlike {@link hit} it rejects when Redis is unavailable,
   * since the entry could not be written either.
   */
  async hitThenAppend(
    ip: LimitCheck,
    user: LimitCheck,
    windowSeconds: number,
    stream: string,
    fields: string[],
  ): Promise<LimitVerdict & { entryId?: string }> {
    const [written, value] = await this.hitThenAppendScript(...this.scriptArgs(ip, user, stream, windowSeconds), ...fields);
    if (written === 1) return { allowed: true, retryAfterSeconds: 0, entryId: String(value) };
    return refused(windowSeconds, value);
  }

  /** The Redis key of the counter named `name` (e.g. `ip:1.2.3.4`). */
  private counter(name: string): string {
    return this.naming.key(`ratelimit:${name}`);
  }

  /** The arguments every `hitThen` script starts with: the two counters, the key it goes on to, the window, the limits. */
  private scriptArgs(ip: LimitCheck, user: LimitCheck, key: string, windowSeconds: number): [string, string, string, number, number, number] {
    return [
      this.counter(ip.key),
      this.counter(user.key),
      key,
      windowSeconds,
      Math.max(0, ip.limit),
      Math.max(0, user.limit),
    ];
  }

  /** Counts one hit on every counter and tells whether all are still within their limit. */
  async hit(checks: LimitCheck[], windowSeconds: number): Promise<LimitVerdict> {
    const active = checks.filter((c) => c.limit > 0);
    if (active.length === 0) return { allowed: true, retryAfterSeconds: 0 };
    const pipeline = this.redis.pipeline();
    for (const c of active) {
      const key = this.counter(c.key);
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
      const keys = checks.map((c) => this.counter(c.key));
      const counts = await this.redis.mget(...keys);
      const over = checks.some((c, i) => c.limit > 0 && Number(counts[i] ?? 0) >= c.limit);
      return over ? { allowed: false, retryAfterSeconds: await this.remaining(checks, windowSeconds) } : { allowed: true, retryAfterSeconds: 0 };
    } catch (error) {
      this.warnUnavailable(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.counter(key)).catch((error: unknown) => this.warnUnavailable(error));
  }

  private async remaining(checks: LimitCheck[], windowSeconds: number): Promise<number> {
    const ttls = await Promise.all(checks.map((c) => this.redis.ttl(this.counter(c.key))));
    return Math.max(1, Math.min(windowSeconds, Math.max(...ttls.map((t) => (t > 0 ? t : 1)))));
  }

  private warnUnavailable(error: unknown): void {
    this.warn(`rate limits not enforced: Redis unavailable (${error instanceof Error ? error.message : String(error)})`);
  }
}
