import { Logger } from '@nestjs/common';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '@flotilla/config';
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** `CLIENT SETNAME`, so `CLIENT LIST` shows who holds a connection. */
  connectionName?: string;
  /**
   * Reconnect attempts a command already sent may wait for before it fails. Kept small
   * so callers learn of an outage within a fraction of a second. Default 1.
   */
  maxRetriesPerRequest?: number;
  /**
   * Send the commands issued in one event-loop turn as one write. Worth it on a busy
   * edge (one XADD per request); never on a connection used for blocking reads.
   */
  autoPipelining?: boolean;
  /**
   * A command without a reply this long rejects ("Command timed out", which
   * {@link isRedisUnavailable} counts as an outage), so a hung server is never waited
   * for. Applies to every command, blocking ones too: read with {@link blockingReader}.
   * Default `REDIS_COMMAND_TIMEOUT_MS`'s default.
   */
  commandTimeoutMs?: number;
}

const logger = new Logger('Redis');

/**
 * An ioredis client that fails fast and heals by itself: commands issued while
 * disconnected reject at once (no offline queue, so an HTTP edge can answer 503
 * immediately instead of hanging), a command a connected but hung server does not
 * answer rejects after the command timeout, and the connection is retried forever in
 * the background with a capped backoff. Connection errors are logged once per outage.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    // A former primary answers READONLY after a failover; reconnecting finds the new one.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    connectionName: options.connectionName,
    enableAutoPipelining: options.autoPipelining ?? false,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  });
  watchConnection(client, options.connectionName ?? 'redis');
  return client;
}

/**
 * A duplicate of `client` for blocking reads (`XREADGROUP ... BLOCK blockMs`): its
 * command timeout is the block time plus the client's own, so a read that waits its
 * whole block on a quiet stream is not cut short, while a hung server still fails it.
 */
export function blockingReader(client: Redis, blockMs: number, connectionName: string): Redis {
  const base = client.options.commandTimeout ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  return client.duplicate({ connectionName, commandTimeout: blockMs + base });
}

/**
 * Logs the first error of an outage and the recovery, instead of one line per retry,
 * and keeps ioredis from printing "Unhandled error event" for every failed attempt.
 */
export function watchConnection(client: Redis, name: string): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`${name}: connection lost (${error.message}); reconnecting in the background`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`${name}: connection restored`);
  });
}

/** Resolves true once `client` is ready, false when `timeoutMs` passes first; never rejects. */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.once('ready', onReady);
  });
}
