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
type IpLimitSettings = Pick<LimitSettings, 'RATE_LIMIT_PER_IP'>;

/** The counter every request is held to: its address's. */
export const ipLimit = (env: IpLimitSettings, ip: string): LimitCheck => ({ key: `ip:${ip}`, limit: env.RATE_LIMIT_PER_IP });

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

/**
 * Takes one attempt from two counters (KEYS[1], KEYS[2]; ARGV[2], ARGV[3] their limits;
 * ARGV[1] the window) only when both still have one left, so concurrent attempts can never
 * take more than the limit between them. Refused: counts the refusal on KEYS[3] (the first
 * exhausted counter is KEYS[1]) or KEYS[4] (it is KEYS[2]), and answers
 * `{0, seconds to wait, refusals so far in that window, 1 or 2}`; taken: `{1}`.
 */
const TAKE_ATTEMPT = `
local window = tonumber(ARGV[1])
local limits = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
local wait, first = 0, 0
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= limits[i] then
    if first == 0 then first = i end
    local ttl = redis.call('TTL', KEYS[i])
    if ttl <= 0 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
if first > 0 then
  local refusals = redis.call('INCR', KEYS[2 + first])
  redis.call('EXPIRE', KEYS[2 + first], window, 'NX')
  return { 0, wait, refusals, first }
end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], window, 'NX')
end
return { 1 }
`;

/** Gives back one attempt taken from KEYS[1], never below zero nor onto a counter whose window ended. */
const GIVE_BACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
`;

/** A refused {@link RateLimiter.takeAttempt}: which counter was exhausted and how often it has refused in this window. */
export interface AttemptRefusal extends LimitVerdict {
  allowed: false;
  /** 0 for the first check's counter, 1 for the second's. */
  exhausted: 0 | 1;
  /** Refusals of that counter within its window, this one included (1: the first). */
  refusals: number;
}

/** A `hitThen` script's `{0, seconds}`: refused, with the counters' remaining window (1 s to the whole window). */
const refused = (windowSeconds: number, ttl: number | string | undefined): LimitVerdict => ({
  allowed: false,
  retryAfterSeconds: Math.max(1, Math.min(windowSeconds, Number(ttl))),
});

type HitThenGet = (ipKey: string, userKey: string, key: string, window: number, ipLimit: number, userLimit: number) => Promise<[0 | 1, (number | string)?]>;
type TakeAttempt = (first: string, second: string, firstRefusals: string, secondRefusals: string, window: number, firstLimit: number, secondLimit: number) => Promise<[0 | 1, number?, number?, number?]>;
type GiveBack = (key: string) => Promise<number>;
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
  private readonly takeAttemptScript: TakeAttempt;
  private readonly giveBackScript: GiveBack;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL once when Redis does not know the script yet.
    redis.defineCommand('flotillaHitThenAppend', { numberOfKeys: 3, lua: HIT_THEN_APPEND });
    this.hitThenAppendScript = (redis as unknown as { flotillaHitThenAppend: HitThenAppend }).flotillaHitThenAppend.bind(redis);
    redis.defineCommand('flotillaHitThenGet', { numberOfKeys: 3, lua: HIT_THEN_GET });
    this.hitThenGetScript = (redis as unknown as { flotillaHitThenGet: HitThenGet }).flotillaHitThenGet.bind(redis);
    redis.defineCommand('flotillaTakeAttempt', { numberOfKeys: 4, lua: TAKE_ATTEMPT });
    this.takeAttemptScript = (redis as unknown as { flotillaTakeAttempt: TakeAttempt }).flotillaTakeAttempt.bind(redis);
    redis.defineCommand('flotillaGiveBack', { numberOfKeys: 1, lua: GIVE_BACK });
    this.giveBackScript = (redis as unknown as { flotillaGiveBack: GiveBack }).flotillaGiveBack.bind(redis);
  }

  /**
   * Count first, then check: takes one attempt from both counters in one atomic step, or
   * none when either has no attempt left — so a burst of concurrent attempts gets no more
   * than the limit between them, and a refused attempt uses up nothing. Refusals are
   * counted per exhausted counter and window (for aggregated auditing). Rejects when
   * Redis is unavailable: the caller decides whether to go on without a limit.
   */
  async takeAttempt([first, second]: [LimitCheck, LimitCheck], windowSeconds: number): Promise<LimitVerdict | AttemptRefusal> {
    const [taken, wait, refusals, exhausted] = await this.takeAttemptScript(
      this.counter(first.key),
      this.counter(second.key),
      this.counter(`refusals:${first.key}`),
      this.counter(`refusals:${second.key}`),
      windowSeconds,
      Math.max(0, first.limit),
      Math.max(0, second.limit),
    );
    if (taken === 1) return { allowed: true, retryAfterSeconds: 0 };
    return { ...refused(windowSeconds, wait), allowed: false, exhausted: exhausted === 2 ? 1 : 0, refusals: Number(refusals) };
  }

  /** Gives back an attempt {@link takeAttempt} took from `key` (e.g. a login that succeeded). */
  async giveBack(key: string): Promise<void> {
    await this.giveBackScript(this.counter(key)).catch((error: unknown) => this.warnUnavailable(error));
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
