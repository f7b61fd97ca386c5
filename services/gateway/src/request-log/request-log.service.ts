import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { Streams, type RequestLogEntry } from '@flotilla/contracts';
import { REDIS } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import type { AuthUser } from '@flotilla/auth';

const FLUSH_EVERY_MS = 50;
/** The entry's fields in the order they are written; a buffered entry holds their values only. */
const FIELDS = ['requestId', 'method', 'route', 'url', 'status', 'durationMs', 'userId', 'ip', 'userAgent', 'requestBytes', 'responseBytes', 'at'] as const satisfies readonly (keyof RequestLogEntry)[];
type EntryValues = string[];
const FLUSH_AT = 256;
/** Entries kept while Redis is down; beyond that the oldest are dropped and counted. */
const MAX_BUFFERED = 50_000;

/**
 * One entry per request on the `requests` stream. Entries are buffered and sent in
 * pipelines so logging adds no round trip to a request; they wait in memory while
 * Redis is away. Only metadata is logged: never bodies, headers or query strings.
 */
@Injectable()
export class RequestLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(RequestLogService.name);
  private readonly stream: string;
  private buffer: EntryValues[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private readonly dropped;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    naming: Naming,
    metrics: MetricsService,
  ) {
    this.stream = naming.key(Streams.Requests);
    this.dropped = metrics.counter({ name: 'request_log_dropped_total', help: 'Request-log entries dropped while Redis was unavailable' });
  }

  record(request: FastifyRequest, reply: FastifyReply): void {
    const user = (request as FastifyRequest & { user?: AuthUser }).user;
    const url = request.url;
    const query = url.indexOf('?');
    // Values only, in FIELDS order: one small array per request instead of an object and its entries.
    this.buffer.push([
      (request as FastifyRequest & { correlationId?: string }).correlationId ?? '',
      request.method,
      request.routeOptions.url ?? 'unmatched',
      (query === -1 ? url : url.slice(0, query)).slice(0, 512),
      String(reply.statusCode),
      reply.elapsedTime.toFixed(2),
      user?.id ?? '',
      request.ip,
      (request.headers['user-agent'] ?? '').slice(0, 256),
      String(request.headers['content-length'] ?? 0),
      String(reply.getHeader('content-length') ?? 0),
      new Date().toISOString(),
    ]);
    if (this.buffer.length > MAX_BUFFERED) {
      const excess = this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, excess);
      this.dropped.inc(excess);
    }
    if (this.buffer.length >= FLUSH_AT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** Sends what is buffered; on failure keeps it for the next attempt. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const batch = this.buffer;
    this.buffer = [];
    try {
      const pipeline = this.redis.pipeline();
      const args: string[] = new Array<string>(FIELDS.length * 2);
      for (const values of batch) {
        for (let i = 0; i < FIELDS.length; i++) {
          args[2 * i] = FIELDS[i]!;
          args[2 * i + 1] = values[i]!;
        }
        pipeline.xadd(this.stream, '*', ...args);
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = batch.filter((_, i) => results[i]?.[0]);
      if (failed.length > 0) throw new Error(`${failed.length} entries not written`);
    } catch (error) {
      this.buffer = batch.concat(this.buffer);
      this.logger.debug(`request log waits for Redis: ${error instanceof Error ? error.message : String(error)}`);
      this.timer ??= setTimeout(() => void this.flush(), 1000);
    } finally {
      this.flushing = false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
  }
}
