/**
 * Whether `error` says a server could not be reached or went away (connection refused or
 * reset, Postgres shutting down or starting, a connection class 08 error), directly or
 * as the driver error a TypeORM query error wraps.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  if (!e || typeof e !== 'object') return false;
  const codes = [e.code, e.driverError?.code].filter((c): c is string => typeof c === 'string');
  if (codes.some((c) => /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|08\w{3}|57P0[1-3])$/.test(c))) return true;
  const message = [e.message, e.driverError?.message].filter((m): m is string => typeof m === 'string').join(' ');
  return /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i.test(message);
}
