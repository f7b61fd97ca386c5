import { Logger, ServiceUnavailableException, type Provider } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { ACTIVE_USER_CHECK, type ActiveUserCheck } from '@flotilla/auth';
import { ENV } from '@flotilla/config';
import { isDependencyUnavailable } from '@flotilla/messaging';
import { throttledWarning } from '@flotilla/observability';
import type { GatewayEnv } from '../gateway.env.js';

const MAX_ENTRIES = 100_000;
/** Users remembered as not found: a flood of well-signed tokens of many made-up users stays bounded. */
const MAX_MISSING = 10_000;
/**
 * How long a user not found is answered "not found" without asking again. Safe to cache:
 * a user id is never reused, and a token only names a user that existed when it was issued.
 * (A disabled user counts as not found; one enabled again is refused for at most this long.)
 */
const MISSING_MS = 5000;

export interface ActiveUserCheckOptions {
  /** How long a user found in the database is taken to exist without asking again. */
  freshMs: number;
  /** A lookup not answered within this is taken as Postgres being unreachable (a hung server answers nothing). */
  lookupTimeoutMs: number;
  /** After a lookup met an outage, how long the check answers without asking the database again. */
  outageBackoffMs: number;
}

export const DEFAULT_ACTIVE_USER_CHECK: ActiveUserCheckOptions = { freshMs: 30_000, lookupTimeoutMs: 2000, outageBackoffMs: 2000 };

/** Whether the user exists; rejects when the database cannot say. */
export type UserLookup = (userId: string) => Promise<boolean>;

class LookupTimedOut extends Error {}

/**
 * A signed, unexpired token whose user no longer exists or is disabled is refused (401).
 * Users found recently are remembered for `freshMs`, so each request costs a map lookup,
 * not a query; deleting or disabling a user also raises its token version, which ends its
 * tokens within seconds on every instance (see `revocationCheck`), so this memory is no
 * longer what bounds that time. Lookups of one user are shared by the requests waiting for them.
 *
 * When Postgres is unreachable (refused, gone, or not answering within `lookupTimeoutMs`)
 * the check cannot tell a live user from a deleted one. It then answers, for `outageBackoffMs`
 * without asking again:
 * - with `tolerateOutage` (the vote route), true for a user this gateway has found in the
 *   database before. That is safe enough for a vote: the token's signature and expiry were
 *   verified without I/O, users are deleted through this same database (so none can be
 *   deleted during the outage), and the only user wrongly let through is one deleted between
 *   its last lookup here and the outage, until the outage ends or its token expires — and
 *   all it can do is cast a ballot. A user never found here is not guessed at: 503.
 * - otherwise 503 (with Retry-After): every other route reads or changes data, and those
 *   need Postgres anyway.
 */
export function activeUserCheck(lookup: UserLookup, options: ActiveUserCheckOptions = DEFAULT_ACTIVE_USER_CHECK, now: () => number = Date.now): ActiveUserCheck {
  const logger = new Logger('ActiveUserCheck');
  const warn = throttledWarning(logger);
  /** When each user was last found in the database (the least recently found goes first when full). */
  const foundAt = new LRUCache<string, number>({ max: MAX_ENTRIES });
  const pending = new Map<string, Promise<boolean>>();
  // A flood of one unknown user's well-signed tokens costs one query per MISSING_MS, not one each.
  const missing = new LRUCache<string, true>({ max: MAX_MISSING, ttl: MISSING_MS, ttlResolution: 0, perf: { now } });
  let outageUntil = 0;

  const knownActive = (userId: string): boolean => {
    // peek: the hot path only reads; each lookup (every freshMs) renews a user's recency.
    const at = foundAt.peek(userId);
    return at !== undefined && now() - at < options.freshMs;
  };

  const duringOutage = (userId: string, tolerateOutage: boolean): boolean => {
    if (tolerateOutage && foundAt.has(userId)) return true;
    throw new ServiceUnavailableException('Your account cannot be checked right now (its database is not reachable); try again shortly.');
  };

  const ask = (userId: string): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupTimedOut(`no answer within ${options.lookupTimeoutMs} ms`)), options.lookupTimeoutMs);
    });
    return Promise.race([lookup(userId), timedOut])
      .then((exists) => {
        if (!exists) {
          foundAt.delete(userId);
          missing.set(userId, true);
        } else {
          foundAt.set(userId, now());
        }
        return exists;
      })
      .finally(() => {
        clearTimeout(timer);
        pending.delete(userId);
      });
  };

  const check = async (userId: string, tolerateOutage = false): Promise<boolean> => {
    if (knownActive(userId)) return true;
    if (missing.has(userId)) return false;
    if (now() < outageUntil) return duringOutage(userId, tolerateOutage);
    let lookingUp = pending.get(userId);
    if (!lookingUp) {
      lookingUp = ask(userId);
      pending.set(userId, lookingUp);
    }
    try {
      return await lookingUp;
    } catch (error) {
      if (!(error instanceof LookupTimedOut) && !isDependencyUnavailable(error)) throw error;
      outageUntil = now() + options.outageBackoffMs;
      warn(`users cannot be looked up (${error instanceof Error ? error.message : String(error)}); votes of known users are still accepted`);
      return duringOutage(userId, tolerateOutage);
    }
  };
  return Object.assign(check, { knownActive });
}

export const activeUserCheckProvider: Provider = {
  provide: ACTIVE_USER_CHECK,
  inject: [DataSource, ENV],
  useFactory: (dataSource: DataSource, env: GatewayEnv) =>
    activeUserCheck(
      async (userId) => ((await dataSource.query(`SELECT 1 FROM users WHERE id = $1 AND NOT disabled`, [userId])) as unknown[]).length > 0,
      { ...DEFAULT_ACTIVE_USER_CHECK, freshMs: env.USER_CHECK_FRESH_MS },
    ),
};
