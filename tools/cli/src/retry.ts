import { ApiError, NetworkError } from './errors.js';
import { sleep } from './pool.js';

export interface ApiRetryOptions {
  /** Tries after the first (default 4), after `delayMs` doubling each time (default 500 ms), or as Retry-After says. */
  retries?: number;
  delayMs?: number;
  signal?: AbortSignal;
  /** Hears each failure that is tried again. */
  onRetry?: (what: string, attempt: number, delayMs: number, error: unknown) => void;
}

const MAX_DELAY_MS = 30_000;

/** A failure another try may not meet: no answer at all, a timeout, rate limiting, or the server's 5xx. */
export function isTransient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status === 408 || error.status === 429 || error.status >= 500));
}

/**
 * Calls `call` again on a transient failure, with backoff. Only for calls that are safe
 * to repeat: signing in, completing (the API answers a completed upload's job again),
 * asking what an upload holds; and starting, where a repeat after a lost answer leaves
 * one more pending dataset, which the API sweeps when its URLs expire.
 */
export async function withApiRetries<T>(what: string, call: () => Promise<T>, options: ApiRetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error) || attempt > retries || options.signal?.aborted) throw error;
      const backoff = (options.delayMs ?? 500) * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
      const delayMs = Math.round(Math.min(MAX_DELAY_MS, Math.max(backoff, (error instanceof ApiError ? error.retryAfterMs : undefined) ?? 0)));
      options.onRetry?.(what, attempt, delayMs, error);
      await sleep(delayMs, options.signal);
    }
  }
}
