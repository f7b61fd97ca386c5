/**
 * S3 could not be reached, timed out, or answered with a server error (5xx): the request
 * may well succeed later, so callers answer 503 rather than 500. Other failures (access
 * denied, no such upload, a malformed request) are the SDK's own errors, passed through.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
}

/** Socket-level failures: nothing listens there, the name does not resolve, or the link broke. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const CONNECTION_CODE_IN_MESSAGE = new RegExp(`\\b(${[...CONNECTION_CODES].join('|')})\\b`);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * True when `error` means "S3 is not reachable or failing right now" rather than "this
 * request is wrong". A caller's own abort is not unavailability.
 */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  if (e.name === 'AbortError') return false;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (e.name === 'TimeoutError') return true;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  // The SDK's retry layer re-wraps an error that is not an `Error` of its own realm (as
  // under Jest's VM modules) in a plain Error that keeps only the text: "... connect ECONNREFUSED ...".
  if (typeof e.message === 'string' && CONNECTION_CODE_IN_MESSAGE.test(e.message)) return true;
  // Node reports a failed connection to every address of a name as one AggregateError.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isStorageUnavailable);
}

/** True for the SDK's "no such object/bucket" answers (HEAD has no body, so only a 404 `NotFound`). */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404;
}

/** Wraps an unavailability in {@link StorageUnavailableError} (naming what was attempted); leaves other errors alone. */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageUnavailableError || !isStorageUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message || error.name : String(error);
  return new StorageUnavailableError(`object storage is not reachable (${what}): ${reason}`, { cause: error });
}
