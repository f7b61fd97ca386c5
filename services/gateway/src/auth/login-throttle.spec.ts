import { describe, expect, it } from '@jest/globals';
import { ServiceUnavailableException } from '@nestjs/common';
import type { AuditEventData } from '@flotilla/contracts';
import type { AuditLog } from '../identity/audit-log.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.service.js';
import { TooManyRequestsException } from '../rate-limit/too-many-requests.exception.js';
import { LoginThrottle } from './login-throttle.js';

const env = { LOGIN_MAX_FAILURES_PER_ACCOUNT: 3, LOGIN_MAX_FAILURES_PER_IP: 50, LOGIN_THROTTLE_WINDOW_SECONDS: 900 };

/** The limiter's side of a login, recorded: what was reset and given back. */
function limiterThat(takeAttempt: () => Promise<unknown>) {
  const calls: string[] = [];
  const limiter = {
    takeAttempt,
    reset: async (key: string) => void calls.push(`reset ${key}`),
    giveBack: async (key: string) => void calls.push(`giveBack ${key}`),
  } as unknown as RateLimiter;
  return { limiter, calls };
}

function auditThatRecords() {
  const refusals: { key: string; entry: AuditEventData; first: boolean }[] = [];
  const audit = { recordRefusal: async (key: string, entry: AuditEventData, first: boolean) => void refusals.push({ key, entry, first }) } as unknown as AuditLog;
  return { audit, refusals };
}

describe('LoginThrottle', () => {
  it('a success resets the account and gives the IP its attempt back, once however often it is settled', async () => {
    const { limiter, calls } = limiterThat(async () => ({ allowed: true, retryAfterSeconds: 0 }));
    const attempt = await new LoginThrottle(limiter, auditThatRecords().audit, env).take('a@x.test', '10.0.0.1');
    await attempt.succeeded();
    await attempt.abandoned();
    expect(calls).toEqual(['reset login:account:a@x.test', 'giveBack login:ip:10.0.0.1']);
  });

  it('an attempt whose password could not be checked gives both counters their attempt back', async () => {
    const { limiter, calls } = limiterThat(async () => ({ allowed: true, retryAfterSeconds: 0 }));
    const attempt = await new LoginThrottle(limiter, auditThatRecords().audit, env).take('a@x.test', '10.0.0.1');
    await attempt.abandoned();
    expect(calls).toEqual(['giveBack login:account:a@x.test', 'giveBack login:ip:10.0.0.1']);
  });

  it('refuses with 429 and Retry-After, audited per exhausted counter, the first refusal of a window marked as such', async () => {
    let refusals = 0;
    const { limiter } = limiterThat(async () => ({ allowed: false, retryAfterSeconds: 42, exhausted: 1, refusals: ++refusals }));
    const { audit, refusals: recorded } = auditThatRecords();
    const throttle = new LoginThrottle(limiter, audit, env);
    for (let i = 0; i < 2; i++) {
      const refusal = await throttle.take('a@x.test', '10.0.0.1').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(TooManyRequestsException);
      expect((refusal as TooManyRequestsException).retryAfterSeconds).toBe(42);
    }
    expect(recorded.map((r) => [r.key, r.first, r.entry.details])).toEqual([
      ['login:ip:10.0.0.1', true, { retryAfterSeconds: 42, exhausted: 'ip' }],
      ['login:ip:10.0.0.1', false, { retryAfterSeconds: 42, exhausted: 'ip' }],
    ]);
  });

  it('fails closed: Redis unavailable answers 503, and no password is checked', async () => {
    const { limiter } = limiterThat(async () => {
      throw new Error('Connection is closed.');
    });
    await expect(new LoginThrottle(limiter, auditThatRecords().audit, env).take('a@x.test', '10.0.0.1')).rejects.toBeInstanceOf(ServiceUnavailableException);
  });
});
