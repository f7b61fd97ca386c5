import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ENV, Naming } from '@flotilla/config';
import { RpcError, StreamGroups, Streams, type Page, type RequestRecord } from '@flotilla/contracts';
import { defaultConsumerName, REDIS, StreamConsumer, type StreamEntry } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';

export interface RequestFilter {
  status?: number;
  method?: string;
  route?: string;
  userId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

interface RequestRow {
  id: string;
  at: Date;
  method: string;
  route: string;
  path: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
  ip: string;
  correlation_id: string;
  user_agent: string;
  request_bytes: string;
  response_bytes: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The request log: the gateway's `requests` stream persisted in batches (one
 * transaction per batch, acknowledged after the commit; the stream id as key makes a
 * redelivered batch harmless), queried with filters and keyset paging.
 */
@Injectable()
export class RequestLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RequestLog.name);
  private readonly consumer: StreamConsumer;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) private readonly env: AdminEnv,
    naming: Naming,
  ) {
    this.consumer = new StreamConsumer({
      redis,
      stream: naming.key(Streams.Requests),
      group: StreamGroups.RequestLoggers,
      consumer: defaultConsumerName(),
      handler: (entries) => this.store(entries),
      batchSize: 500,
      blockMs: 1000,
      lingerMs: env.REQUEST_LOG_LINGER_MS,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
    this.pruneTimer = setInterval(() => void this.prune(), 3600_000);
    this.pruneTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.consumer.stop();
  }

  /** Stream entries not yet stored: the ones waiting and the ones being stored. */
  lag(): ReturnType<StreamConsumer['lag']> {
    return this.consumer.lag();
  }

  private async store(entries: StreamEntry[]): Promise<void> {
    const rows = entries.map((e) => {
      const f = e.fields;
      const at = new Date(f.at ?? '');
      return [
        // Keyed by the gateway's entry id, not the stream id, which a replay changes; entries
        // written before entries carried one keep their stream id.
        f.entryId && UUID.test(f.entryId) ? f.entryId : e.id,
        Number.isNaN(at.getTime()) ? new Date() : at,
        (f.method ?? '').slice(0, 16),
        (f.route ?? '').slice(0, 500),
        (f.url ?? '').slice(0, 2000),
        Number.parseInt(f.status ?? '0', 10) || 0,
        Number.parseFloat(f.durationMs ?? '0') || 0,
        f.userId && UUID.test(f.userId) ? f.userId : null,
        (f.ip ?? '').slice(0, 100),
        (f.requestId ?? '').slice(0, 200),
        (f.userAgent ?? '').slice(0, 512),
        Number.parseInt(f.requestBytes ?? '0', 10) || 0,
        Number.parseInt(f.responseBytes ?? '0', 10) || 0,
      ] as const;
    });
    const column = (i: number) => rows.map((r) => r[i]);
    await this.dataSource.query(
      `INSERT INTO requests (id, at, method, route, path, status, duration_ms, user_id, ip, correlation_id, user_agent, request_bytes, response_bytes)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[])
       ON CONFLICT (id) DO NOTHING`,
      Array.from({ length: 13 }, (_, i) => column(i)),
    );
  }

  async query(filter: RequestFilter): Promise<Page<RequestRecord>> {
    const limit = filter.limit ?? 50;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status !== undefined) add('status = ?', filter.status);
    if (filter.method) add('method = ?', filter.method.toUpperCase());
    if (filter.route) add(`route ILIKE ? ESCAPE '\\'`, `%${filter.route.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (filter.userId) add('user_id = ?', filter.userId);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at < ?', filter.to);
    if (filter.cursor) {
      const cursor = decodeRequestCursor(filter.cursor);
      if (!cursor) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'cursor', message: 'cursor is not valid' }]);
      params.push(cursor.createdAt, cursor.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(limit + 1);
    const rows = (await this.dataSource.query(
      `SELECT * FROM requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    )) as RequestRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(view),
      nextCursor: rows.length > limit && last ? encodeRequestCursor(last) : null,
    };
  }

  /** Requests and server errors over the last hour, and the rate over the last minute. */
  async figures(): Promise<{ lastHour: number; errors: number; errorRate: number; perSecond: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS last_hour, count(*) FILTER (WHERE status >= 500)::int AS errors,
              count(*) FILTER (WHERE at > now() - interval '1 minute')::int AS last_minute
       FROM requests WHERE at > now() - interval '1 hour'`,
    )) as { last_hour: number; errors: number; last_minute: number }[];
    const lastHour = row?.last_hour ?? 0;
    const errors = row?.errors ?? 0;
    return { lastHour, errors, errorRate: lastHour ? Math.round((errors / lastHour) * 10_000) / 10_000 : 0, perSecond: Math.round(((row?.last_minute ?? 0) / 60) * 100) / 100 };
  }

  private async prune(): Promise<void> {
    await this.dataSource
      .query(`DELETE FROM requests WHERE at < now() - make_interval(days => $1)`, [this.env.REQUEST_LOG_RETENTION_DAYS])
      .catch((error: unknown) => this.logger.warn(`request log prune failed: ${String(error)}`));
  }
}

/** Keyset cursor over (at, stream id): request rows are keyed by their stream id, not a UUID. */
function encodeRequestCursor(row: RequestRow): string {
  return Buffer.from(`${row.at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeRequestCursor(raw: string): { createdAt: Date; id: string } | null {
  const [at, id, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (rest.length > 0 || !id || !(/^\d{1,16}-\d{1,10}$/.test(id) || UUID.test(id)) || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

function view(row: RequestRow): RequestRecord {
  return {
    id: row.id,
    at: row.at.toISOString(),
    method: row.method,
    route: row.route,
    path: row.path,
    status: row.status,
    durationMs: row.duration_ms,
    userId: row.user_id,
    ip: row.ip,
    correlationId: row.correlation_id,
    userAgent: row.user_agent,
    requestBytes: Number(row.request_bytes),
    responseBytes: Number(row.response_bytes),
  };
}
