import { isDependencyUnavailable, isRedisUnavailable } from '@flotilla/messaging';

/**
 * Whether an error that reached the edge means a server the gateway needs is down
 * (Postgres, Redis, the broker) rather than a bug: such a request answers 503 with
 * Retry-After, not 500.
 */
export function isDependencyDown(error: unknown): boolean {
  return isDependencyUnavailable(error) || isRedisUnavailable(error);
}
