/** Socket-level failures: the server is not there, or the link to it broke. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Messages ioredis and Redis give when a command cannot reach a working server. */
const UNAVAILABLE_MESSAGES = [
  /enableOfflineQueue/i, // offline queue disabled: the command failed at once because we are disconnected
  /Connection is closed/i,
  /Reached the max retries per request limit/i,
  /Command timed out/i,
  /^LOADING\b/, // the server restarted and is still reading its data set
  /^MASTERDOWN\b/,
  /^READONLY\b/, // a replica after a failover, until we reconnect to the new primary
];

/**
 * True when `error` means "Redis is not reachable right now" rather than a bad command,
 * so callers answer 503 (and retry later) instead of 500.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}
