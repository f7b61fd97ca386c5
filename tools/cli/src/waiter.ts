import { FINISHED_JOB_STATUSES, type ValidationStatus } from '@flotilla/contracts';
import { ApiError, NetworkError } from './errors.js';
import type { ApiClient } from './http.js';
import { sleep } from './pool.js';

export const DEFAULT_POLL_DELAY_MS = 2000;
/** Answers worth asking again after: rate limited, a dependency down, an RPC timeout. */
const TRANSIENT_STATUSES = [429, 502, 503, 504];
const MAX_CONSECUTIVE_FAILURES = 5;

export interface WaitOptions {
  signal?: AbortSignal;
  /** Delay when the answer has no Retry-After (default 2 s). */
  defaultDelayMs?: number;
  /** Upper bound on any one delay, whatever Retry-After says (default 60 s). */
  maxDelayMs?: number;
  /** Hears every status that differs from the one before. */
  onStatus?: (status: ValidationStatus) => void;
}

export function isFinished(status: ValidationStatus): boolean {
  return FINISHED_JOB_STATUSES.includes(status.status);
}

/**
 * Polls `GET /validation/{datasetId}/status` until the job is passed, failed or error,
 * waiting as long as `Retry-After` says between polls and sending the last ETag in
 * `If-None-Match` (304: nothing changed). A few transient failures in a row (network,
 * 429, 502-504) are waited out; anything else is thrown.
 */
export async function waitForVerdict(client: ApiClient, datasetId: string, options: WaitOptions = {}): Promise<ValidationStatus> {
  const defaultDelay = options.defaultDelayMs ?? DEFAULT_POLL_DELAY_MS;
  const maxDelay = options.maxDelayMs ?? 60_000;
  let current: ValidationStatus | undefined;
  let etag: string | undefined;
  let failures = 0;
  for (;;) {
    let delay: number | undefined;
    try {
      // Without a status in hand, a 304 would leave nothing to show: ask unconditionally.
      const poll = await client.validationStatus(datasetId, current ? etag : undefined);
      failures = 0;
      delay = poll.retryAfterMs;
      if (poll.changed) {
        current = poll.status;
        etag = poll.etag;
        options.onStatus?.(current);
        if (isFinished(current)) return current;
      }
    } catch (error) {
      const transient = error instanceof NetworkError || (error instanceof ApiError && TRANSIENT_STATUSES.includes(error.status));
      if (!transient || options.signal?.aborted || ++failures >= MAX_CONSECUTIVE_FAILURES) throw error;
      delay = (error instanceof ApiError ? error.retryAfterMs : undefined) ?? defaultDelay * 2 ** (failures - 1);
    }
    await sleep(Math.min(maxDelay, delay ?? defaultDelay), options.signal);
  }
}
