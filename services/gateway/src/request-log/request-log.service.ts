import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ENV, Naming } from '@flotilla/config';
import { StreamGroups, Streams, type RequestLogEntry } from '@flotilla/contracts';
import { REDIS } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import type { AuthUser } from '@flotilla/auth';
import type { GatewayEnv } from '../gateway.env.js';

const FLUSH_EVERY_MS = 50;
/** The entry's fields in the order they are written; a buffered entry holds their values only. */
const FIELDS = ['entryId', 'requestId', 'method', 'route', 'url', 'status', 'durationMs', 'userId', 'ip', 'userAgent', 'requestBytes', 'responseBytes', 'at'] as const satisfies readonly (keyof RequestLogEntry)[];
const FLUSH_AT = 256;
/** Entries per script call, so a backlog after an outage goes in several moderate commands. */
const CHUNK = 1024;

/**
 * XADDs each run of FIELDS.length values of ARGV[3..] to the stream KEYS[1] as one entry,
 * with FIELDS as its field names, keeping the stream near ARGV[1] entries (0: no cap) with
 * an approximate MAXLEN, which trims whole nodes and costs next to nothing. Answers
 * `{entries added, entries cut before the group ARGV[2] had read them}`. The second is
 * worked out only when the cap is reached: the group's lag before (entries not yet
 * delivered to it; all of them when it does not exist or Redis cannot tell) plus what
 * was added, less what the stream still holds, is what was cut unread.
 */
const XADD_ENTRIES = `
local maxlen = tonumber(ARGV[1])
local added = (#ARGV - 2) / ${FIELDS.length}
local before = redis.call('XLEN', KEYS[1])
if maxlen == 0 or before + added <= maxlen then
  for i = 3, #ARGV, ${FIELDS.length} do
    redis.call('XADD', KEYS[1], '*', ${FIELDS.map((f, i) => `'${f}', ARGV[i + ${i}]`).join(', ')})
  end
  return { added, 0 }
end
local undelivered = before
-- An empty stream may not exist yet, and then has no groups to ask.
local groups = before > 0 and redis.call('XINFO', 'GROUPS', KEYS[1]) or {}
for _, group in ipairs(groups) do
  local info = {}
  for j = 1, #group, 2 do info[group[j]] = group[j + 1] end
  if info['name'] == ARGV[2] then
    -- When Redis cannot tell the lag (entries deleted inside the range), every entry cut
    -- counts: an upper bound, where counting the range here would hold Redis up.
    if type(info['lag']) == 'number' then undelivered = info['lag'] end
  end
end
for i = 3, #ARGV, ${FIELDS.length} do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', ${FIELDS.map((f, i) => `'${f}', ARGV[i + ${i}]`).join(', ')})
end
local after = redis.call('XLEN', KEYS[1])
local cut = before + added - after
local unread = undelivered + added - after
if unread < 0 then unread = 0 end
if unread > cut then unread = cut end
return { added, unread }
`;

type XaddEntries = (stream: string, maxlen: number, group: string, ...values: string[]) => Promise<[number, number]>;
/** Entries kept while Redis is down; beyond that the oldest are dropped and counted. */
const MAX_BUFFERED = 50_000;

/**
 * One entry per request on the `requests` stream. Entries are buffered (as their values
 * only, in one flat array) and sent many per command, a script that XADDs each, so
 * logging adds no round trip to a request and little work; they wait in memory while
 * Redis is away. Only metadata is logged: never bodies, headers or query strings. The
 * stream is capped at REQUEST_LOG_STREAM_MAXLEN entries, so an admin that is down cannot
 * fill Redis; entries cut before the admin read them are counted in
 * `request_log_stream_cut_total`.
 */
@Injectable()
export class RequestLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(RequestLogService.name);
  private readonly stream: string;
  /** Buffered entries' values, FIELDS.length per entry. */
  private buffer: string[] = [];
  private readonly xaddEntries: XaddEntries;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private closed = false;
  private readonly dropped;
  private readonly cut;
  private readonly maxlen: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    naming: Naming,
    metrics: MetricsService,
    @Inject(ENV) env: Pick<GatewayEnv, 'REQUEST_LOG_STREAM_MAXLEN'>,
  ) {
    this.stream = naming.key(Streams.Requests);
    this.maxlen = env.REQUEST_LOG_STREAM_MAXLEN;
    this.dropped = metrics.counter({ name: 'request_log_dropped_total', help: 'Request-log entries dropped while Redis was unavailable' });
    this.cut = metrics.counter({
      name: 'request_log_stream_cut_total',
      help: 'Request-log entries cut from the requests stream by its length cap before the admin had read them',
    });
    redis.defineCommand('flotillaXaddEntries', { numberOfKeys: 1, lua: XADD_ENTRIES });
    this.xaddEntries = (redis as unknown as { flotillaXaddEntries: XaddEntries }).flotillaXaddEntries.bind(redis);
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.length / FIELDS.length;
  }

  record(request: FastifyRequest, reply: FastifyReply): void {
    const user = (request as FastifyRequest & { user?: AuthUser }).user;
    const url = request.url;
    const query = url.indexOf('?');
    // Values only, in FIELDS order: no object, no array per request.
    this.buffer.push(
      randomUUID(),
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
    );
    if (this.pending > MAX_BUFFERED) {
      const excess = this.pending - MAX_BUFFERED;
      this.buffer.splice(0, excess * FIELDS.length);
      this.dropped.inc(excess);
    }
    if (this.pending >= FLUSH_AT) void this.flush();
    else this.schedule(FLUSH_EVERY_MS);
  }

  /** Sends what is buffered; on failure keeps it for the next attempt. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const batch = this.buffer;
    this.buffer = [];
    const chunks: string[][] = [];
    for (let from = 0; from < batch.length; from += CHUNK * FIELDS.length) chunks.push(batch.slice(from, from + CHUNK * FIELDS.length));
    const results = await Promise.allSettled(chunks.map((values) => this.xaddEntries(this.stream, this.maxlen, StreamGroups.RequestLoggers, ...values)));
    for (const result of results) if (result.status === 'fulfilled' && result.value[1] > 0) this.cut.inc(result.value[1]);
    const failed = chunks.filter((_, i) => results[i]!.status === 'rejected');
    if (failed.length > 0) {
      // Kept for the next attempt, before what arrived meanwhile.
      this.buffer = failed.flat().concat(this.buffer);
      const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as unknown;
      this.logger.debug(`request log waits for Redis: ${reason instanceof Error ? reason.message : String(reason)}`);
    }
    this.flushing = false;
    // Entries that arrived during the write, or that failed, are sent later.
    if (this.buffer.length > 0) this.schedule(failed.length > 0 ? 1000 : FLUSH_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.flush();
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => void this.flush(), ms);
    // Never what keeps a stopping process alive; a running one has its server for that.
    this.timer.unref();
  }
}
