import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { deleteKeys, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { RateLimiter } from '../src/rate-limit/rate-limiter.service.js';

/** The one-round-trip vote write against a real Redis: counters, limits, Retry-After, the entry. */
describe('RateLimiter.hitThenAppend and hitThenGet', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const stream = naming.key('votes');
  let redis: Redis;
  let limiter: RateLimiter;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    // A fresh script cache would be the same: ioredis falls back from EVALSHA to EVAL.
    limiter = new RateLimiter(redis, naming);
  });

  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(ns);
  });

  it('appends the entry and counts both counters, each with the window as its TTL', async () => {
    const verdict = await limiter.hitThenAppend({ key: 'ip:10.0.0.1', limit: 5 }, { key: 'user:a', limit: 3 }, 60, stream, ['voteId', 'v1', 'option', 'cats']);
    expect(verdict.allowed).toBe(true);
    const [[id, fields]] = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
    expect([id, fields]).toEqual([verdict.entryId, ['voteId', 'v1', 'option', 'cats']]);
    expect(await redis.mget(naming.key('ratelimit:ip:10.0.0.1'), naming.key('ratelimit:user:a'))).toEqual(['1', '1']);
    expect(await redis.ttl(naming.key('ratelimit:user:a'))).toBeGreaterThan(55);
  });

  it('refuses past the user limit with the seconds left, and writes nothing', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.1', limit: 5 }, { key: 'user:a', limit: 3 }, 60, stream, ['voteId', `v${i + 2}`])).allowed).toBe(true);
    }
    const refused = await limiter.hitThenAppend({ key: 'ip:10.0.0.1', limit: 5 }, { key: 'user:a', limit: 3 }, 60, stream, ['voteId', 'v5']);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number) });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(55);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await redis.xlen(stream)).toBe(3);
  });

  it('refuses past the IP limit for another user of that IP, and lets another IP through', async () => {
    // The IP counter is at 4 of 5: one more is allowed, the next is not.
    expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.1', limit: 5 }, { key: 'user:b', limit: 3 }, 60, stream, ['voteId', 'b1'])).allowed).toBe(true);
    expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.1', limit: 5 }, { key: 'user:b', limit: 3 }, 60, stream, ['voteId', 'b2'])).allowed).toBe(false);
    expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.2', limit: 5 }, { key: 'user:c', limit: 3 }, 60, stream, ['voteId', 'c1'])).allowed).toBe(true);
    expect(await redis.xlen(stream)).toBe(5);
  });

  it('counts nothing for a limit of 0 (unlimited)', async () => {
    expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.3', limit: 0 }, { key: 'user:d', limit: 0 }, 60, stream, ['voteId', 'd1'])).allowed).toBe(true);
    expect(await redis.exists(naming.key('ratelimit:ip:10.0.0.3'), naming.key('ratelimit:user:d'))).toBe(0);
  });

  it('matches hit(): a counter it did not start keeps counting with hit()', async () => {
    await limiter.hit([{ key: 'user:e', limit: 2 }], 60);
    expect((await limiter.hitThenAppend({ key: 'ip:10.0.0.4', limit: 10 }, { key: 'user:e', limit: 2 }, 60, stream, ['voteId', 'e1'])).allowed).toBe(true);
    expect((await limiter.hit([{ key: 'user:e', limit: 2 }], 60)).allowed).toBe(false);
  });

  it('hitThenGet reads the key within the limits, and nothing past them', async () => {
    const key = naming.key('validation-status:some-dataset');
    expect(await limiter.hitThenGet({ key: 'ip:10.0.0.5', limit: 10 }, { key: 'user:f', limit: 2 }, 60, key)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    await redis.set(key, 'the snapshot');
    expect(await limiter.hitThenGet({ key: 'ip:10.0.0.5', limit: 10 }, { key: 'user:f', limit: 2 }, 60, key)).toEqual({ allowed: true, retryAfterSeconds: 0, value: 'the snapshot' });
    const refused = await limiter.hitThenGet({ key: 'ip:10.0.0.5', limit: 10 }, { key: 'user:f', limit: 2 }, 60, key);
    expect(refused.allowed).toBe(false);
    expect(refused.value).toBeUndefined();
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(55);
    expect(await redis.get(naming.key('ratelimit:user:f'))).toBe('3');
  });

  it('rejects when Redis is unavailable, so the vote is answered 503', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const offline = new RateLimiter(down, naming);
    await expect(offline.hitThenAppend({ key: 'ip:x', limit: 1 }, { key: 'user:x', limit: 1 }, 60, stream, ['voteId', 'x'])).rejects.toThrow();
    down.disconnect();
  });

  it('hitThenGet lets the request through without a value when Redis is unavailable, as hit does', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const offline = new RateLimiter(down, naming);
    expect(await offline.hitThenGet({ key: 'ip:x', limit: 1 }, { key: 'user:x', limit: 1 }, 60, naming.key('validation-status:x'))).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await offline.hit([{ key: 'ip:x', limit: 1 }], 60)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    down.disconnect();
  });
});
