import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { RevocationCheck } from '@flotilla/auth';
import { throttledWarning } from '@flotilla/observability';

export interface RevocationCheckOptions {
  /** A version fetched this recently is trusted without asking again. */
  freshMs: number;
  /**
   * A version older than `freshMs` but younger than this answers at once while a refresh
   * runs in the background; an older one (or none) makes the answer wait for the fetch.
   * So a revocation is seen at most this long after it was published, on every instance
   * (API.md promises 5 s; the rest is room for the fetch).
   */
  staleMs: number;
  /** Users remembered at most; the least recently asked goes first. */
  maxUsers: number;
  /** After a failed fetch, how long the check answers from memory without fetching again. */
  outageBackoffMs: number;
}

export const DEFAULT_REVOCATION_CHECK: RevocationCheckOptions = { freshMs: 1000, staleMs: 3500, maxUsers: 100_000, outageBackoffMs: 1000 };

/** The current token versions of users, in the order asked (null: the user has none yet, version 0); rejects when no store can say. */
export type VersionFetch = (userIds: string[]) => Promise<Array<number | null>>;

/** A {@link RevocationCheck} that can also be told a version this instance has just published. */
export interface VersionCache extends RevocationCheck {
  /** Takes a version this instance has published, so that it refuses older tokens at once. */
  learn(userId: string, version: number): void;
}

interface Known {
  version: number;
  fetchedAt: number;
}

interface Waiter {
  resolve: (version: number) => void;
  reject: (error: unknown) => void;
}

/**
 * The per-user token versions the gateway checks every token against, remembered in a
 * bounded LRU and refreshed from the store (one fetch per event-loop turn for every user
 * that needs it) once they are `freshMs` old. A hot user's tokens are answered without a
 * promise: the version is fresh, or stale but young enough to be refreshed in the
 * background. Versions only grow, so a token older than what is remembered is refused
 * without asking.
 *
 * When the store cannot answer, a user seen before is answered from the version last
 * known (nothing newer can be learned until it answers again), for `outageBackoffMs`
 * without asking again; a user never seen is refused with 503 rather than guessed at.
 */
export function revocationCheck(fetch: VersionFetch, options: RevocationCheckOptions = DEFAULT_REVOCATION_CHECK, now: () => number = Date.now): VersionCache {
  const warn = throttledWarning(new Logger('RevocationCheck'));
  const known = new LRUCache<string, Known>({ max: options.maxUsers });
  /** Users whose fetch is in flight or queued for the next one. */
  const loading = new Map<string, Promise<number>>();
  let queued = new Map<string, Waiter>();
  let outageUntil = 0;

  const remember = (userId: string, version: number, at: number): number => {
    const highest = Math.max(version, known.peek(userId)?.version ?? 0);
    known.set(userId, { version: highest, fetchedAt: at });
    return highest;
  };

  const flush = (): void => {
    const batch = queued;
    queued = new Map();
    const ids = [...batch.keys()];
    fetch(ids).then(
      (versions) => {
        const at = now();
        ids.forEach((id, i) => batch.get(id)!.resolve(remember(id, versions[i] ?? 0, at)));
      },
      (error: unknown) => {
        outageUntil = now() + options.outageBackoffMs;
        warn(`token versions cannot be read (${error instanceof Error ? error.message : String(error)}); answering from the versions last known`);
        for (const waiter of batch.values()) waiter.reject(error);
      },
    );
  };

  const load = (userId: string): Promise<number> => {
    const pending = loading.get(userId);
    if (pending) return pending;
    if (queued.size === 0) setImmediate(flush);
    const loaded = new Promise<number>((resolve, reject) => queued.set(userId, { resolve, reject }));
    loading.set(userId, loaded);
    const done = (): void => void loading.delete(userId);
    loaded.then(done, done);
    return loaded;
  };

  const fromMemory = (userId: string, version: number): boolean => {
    const entry = known.peek(userId);
    if (entry) return version >= entry.version;
    throw new ServiceUnavailableException('Your session cannot be checked right now (its store is not reachable); try again shortly.');
  };

  const isCurrent = (userId: string, version: number): boolean | Promise<boolean> => {
    // peek, not get: the hot path only reads; a user's recency is renewed by its refresh, at least every staleMs while it is asked about.
    const entry = known.peek(userId);
    const at = now();
    if (entry) {
      if (version < entry.version) return false;
      const age = at - entry.fetchedAt;
      if (age < options.freshMs) return true;
      if (age < options.staleMs) {
        if (at >= outageUntil && !loading.has(userId)) load(userId).catch(() => undefined);
        return true;
      }
    }
    if (at < outageUntil) return fromMemory(userId, version);
    return load(userId).then(
      (current) => version >= current,
      () => fromMemory(userId, version),
    );
  };

  return {
    isCurrent,
    learn: (userId, version) => void remember(userId, version, now()),
  };
}
