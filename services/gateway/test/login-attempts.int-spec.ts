import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { deleteKeys, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { RateLimiter } from '../src/rate-limit/rate-limiter.service.js';

/** Count first, then check, against a real Redis: what login throttling relies on. */
describe('RateLimiter.takeAttempt and giveBack', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  let redis: Redis;
  let limiter: RateLimiter;
  const counter = (name: string) => naming.key(`ratelimit:${name}`);

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    limiter = new RateLimiter(redis, naming);
  });

  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(ns);
  });

  it('50 concurrent attempts at an account limited to 3: exactly 3 taken, the refusals take nothing and are counted', async () => {
    const account = { key: 'login:account:a@x.test', limit: 3 };
    const ip = { key: 'login:ip:10.0.0.1', limit: 100 };
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => limiter.takeAttempt([account, ip], 900)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(3);
    const refused = verdicts.filter((v) => !v.allowed);
    expect(refused.every((v) => v.retryAfterSeconds > 890 && v.retryAfterSeconds <= 900)).toBe(true);
    expect(refused.map((v) => ('refusals' in v ? v.refusals : 0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 47 }, (_, i) => i + 1));
    expect(await redis.mget(counter(account.key), counter(ip.key), counter(`refusals:${account.key}`))).toEqual(['3', '3', '47']);
  });

  it('a success resets the account and gives the IP its attempt back; a give-back never goes below zero nor revives an ended window', async () => {
    const account = { key: 'login:account:b@x.test', limit: 2 };
    const ip = { key: 'login:ip:10.0.0.2', limit: 100 };
    for (let i = 0; i < 2; i++) expect((await limiter.takeAttempt([account, ip], 900)).allowed).toBe(true);
    expect((await limiter.takeAttempt([account, ip], 900)).allowed).toBe(false);
    await limiter.reset(account.key);
    await limiter.giveBack(ip.key);
    expect(await redis.mget(counter(account.key), counter(ip.key))).toEqual([null, '1']);
    expect((await limiter.takeAttempt([account, ip], 900)).allowed).toBe(true);
    await limiter.giveBack(ip.key);
    await limiter.giveBack(ip.key);
    await limiter.giveBack(ip.key);
    expect(await redis.exists(counter(ip.key))).toBe(0);
  });

  it('refuses by the IP counter when the account still has attempts, and says which was exhausted', async () => {
    const ip = { key: 'login:ip:10.0.0.3', limit: 2 };
    expect((await limiter.takeAttempt([{ key: 'login:account:c1@x.test', limit: 5 }, ip], 900)).allowed).toBe(true);
    expect((await limiter.takeAttempt([{ key: 'login:account:c2@x.test', limit: 5 }, ip], 900)).allowed).toBe(true);
    const refused = await limiter.takeAttempt([{ key: 'login:account:c3@x.test', limit: 5 }, ip], 900);
    expect(refused).toMatchObject({ allowed: false, exhausted: 1, refusals: 1 });
    expect(await redis.exists(counter('login:account:c3@x.test'))).toBe(0);
  });
});
