import { isRedisUnavailable } from '../redis/redis-errors.js';

/** Socket-level codes: the server is not there, or the link to it broke. Postgres: class 08 (connection), 57P01–03 (shutting down, cannot connect now), 53300 (too many connections). */
const CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|08\w{3}|57P0[1-3]|53300)$/;

/** Messages of drivers whose errors carry no such code (pg's pool and client, TypeORM). */
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Client has encountered a connection error and is not queryable|socket hang up|Query read timeout/i;

/** A connection code quoted in a message: the AWS SDK re-wraps foreign errors keeping only their text ("connect ECONNREFUSED ..."). */
const CODE_IN_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/;

/** S3 (AWS SDK v3) errors that say the service is down or overloaded rather than that the request is wrong. */
const S3_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'ServiceUnavailable', 'SlowDown', 'InternalError', 'NetworkingError']);
const S3_STATUSES = new Set([500, 502, 503, 504]);

type ErrorLike = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
};

/**
 * Whether `error` says a server could not be reached or went away rather than that the
 * work is wrong: connection refused, reset or timed out; Postgres shutting down, starting
 * or out of connections (class 08, 57P0x); S3 unreachable, timing out or answering
 * 5xx/SlowDown (AWS SDK v3); Redis unreachable ({@link isRedisUnavailable}). Looked for in
 * the error itself and in what it wraps (TypeORM's `driverError`, `cause`, an
 * AggregateError's `errors`). Consumers wait such failures out without counting an attempt.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as ErrorLike;
  // A caller's own abort is no outage.
  if (e.name === 'AbortError') return false;
  // @flotilla/storage's wrapper for S3 being unreachable.
  if (e.name === 'StorageUnavailableError') return true;
  if (typeof e.code === 'string' && CODES.test(e.code)) return true;
  if (typeof e.message === 'string' && (MESSAGES.test(e.message) || CODE_IN_MESSAGE.test(e.message))) return true;
  if (e.$metadata && typeof e.$metadata === 'object') {
    const status = e.$metadata.httpStatusCode;
    if ((typeof e.name === 'string' && S3_NAMES.has(e.name)) || (typeof status === 'number' && S3_STATUSES.has(status))) return true;
  } else if (e.name === 'TimeoutError') {
    return true;
  }
  if (error instanceof Error && isRedisUnavailable(error)) return true;
  const wrapped = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return wrapped.some((inner) => inner !== error && isDependencyUnavailable(inner, depth + 1));
}
