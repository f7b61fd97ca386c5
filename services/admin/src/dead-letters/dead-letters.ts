import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { GetMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ENV, Naming } from '@flotilla/config';
import { AuditActions, RpcError, Streams, type DeadLetter, type RpcActor } from '@flotilla/contracts';
import { AmqpHeaders, fieldsToRecord, parseDeadLetter, RabbitConnection, REDIS, recordToFields, topologyNames } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';
import { AuditLog } from '../audit/audit-log.js';

/** Services that consume events, so have an event queue that can dead-letter. */
export const EVENT_CONSUMERS = ['upload', 'validator', 'admin'] as const;

interface DeadLetterRow {
  id: string;
  kind: 'queue' | 'stream';
  source: string;
  origin_id: string;
  type: string | null;
  error: string;
  failed_at: Date;
  attempts: number;
  payload: unknown;
  raw: string;
  headers: Record<string, unknown>;
  status: DeadLetter['status'];
  handled_at: Date | null;
}

const BATCH = 200;

/**
 * Dead letters of the whole platform in one list: messages in every service's
 * `<service>.events.dlq` and entries of the `votes:dead` stream are moved into the
 * admin's table (stored, then acknowledged or deleted — so none is lost and a crash in
 * between only finds the same key again). A replay sends a message back to the queue
 * of the service it failed in, or an entry back to its stream; a discard keeps the
 * record but marks it. Both are audited.
 */
@Injectable()
export class DeadLetters implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeadLetters.name);
  private channel?: ChannelWrapper;
  private timer?: NodeJS.Timeout;
  private collecting?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    private readonly audit: AuditLog,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ENV) private readonly env: AdminEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.channel = this.connection.createChannel({ name: 'dead-letters', confirm: true });
    this.timer = setInterval(() => this.collectSoon(), this.env.DEAD_LETTER_POLL_MS);
    this.timer.unref();
    this.collectSoon();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.collecting;
    await this.channel?.close().catch(() => undefined);
  }

  /** Collects now (the console's list is then current); never rejects. */
  collectSoon(): Promise<void> {
    this.collecting ??= this.collect()
      .catch((error: unknown) => this.logger.warn(`dead letters not collected: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  async list(status?: DeadLetter['status']): Promise<DeadLetter[]> {
    await this.collectSoon();
    const rows = (await this.dataSource.query(
      `SELECT * FROM dead_letters ${status ? 'WHERE status = $1' : ''} ORDER BY failed_at DESC LIMIT 500`,
      status ? [status] : [],
    )) as DeadLetterRow[];
    return rows.map(view);
  }

  async count(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dead_letters WHERE status = 'dead'`)) as { n: number }[];
    return row?.n ?? 0;
  }

  /** Sends the message back to where it failed; it is then `replayed`. */
  async replay(id: string, actor: RpcActor): Promise<DeadLetter> {
    const row = await this.find(id);
    if (row.status !== 'dead') throw new RpcError('CONFLICT', `Dead letter ${id} was ${row.status} already.`);
    if (row.kind === 'queue') {
      const queue = row.source.replace(/\.dlq$/, '');
      const headers = { ...row.headers };
      for (const name of [AmqpHeaders.RetryCount, AmqpHeaders.Error, AmqpHeaders.LastError, AmqpHeaders.FailedAt]) delete headers[name];
      await this.channel!.sendToQueue(queue, Buffer.from(row.raw, 'base64'), {
        persistent: true,
        contentType: 'application/json',
        ...(row.type ? { type: row.type } : {}),
        messageId: typeof row.payload === 'object' && row.payload && 'id' in row.payload ? String((row.payload as { id: unknown }).id) : row.origin_id,
        headers: { ...headers, 'x-replayed-from': row.id },
      });
    } else {
      const letter = parseDeadLetter(JSON.parse(row.raw) as Record<string, string>);
      await this.redis.xadd(row.source, '*', ...recordToFields(letter.fields));
    }
    return this.settle(row, 'replayed', AuditActions.DeadLetterReplayed, actor);
  }

  async discard(id: string, actor: RpcActor): Promise<DeadLetter> {
    const row = await this.find(id);
    if (row.status !== 'dead') throw new RpcError('CONFLICT', `Dead letter ${id} was ${row.status} already.`);
    return this.settle(row, 'discarded', AuditActions.DeadLetterDiscarded, actor);
  }

  private async settle(row: DeadLetterRow, status: 'replayed' | 'discarded', action: string, actor: RpcActor): Promise<DeadLetter> {
    const updated = await this.dataSource.transaction(async (m) => {
      const [[next]] = (await m.query(
        `UPDATE dead_letters SET status = $2, handled_at = clock_timestamp(), handled_by = $3 WHERE id = $1 AND status = 'dead' RETURNING *`,
        [row.id, status, actor.userId],
      )) as [DeadLetterRow[], number];
      if (!next) throw new RpcError('CONFLICT', `Dead letter ${row.id} was handled meanwhile.`);
      await this.audit.record(m, {
        action,
        outcome: 'success',
        actorId: actor.userId,
        target: `dead-letter:${row.id}`,
        details: { kind: row.kind, source: row.source, type: row.type, error: row.error.slice(0, 300) },
      });
      return next;
    });
    return view(updated);
  }

  private async find(id: string): Promise<DeadLetterRow> {
    const [row] = (await this.dataSource.query(`SELECT * FROM dead_letters WHERE id = $1`, [id])) as DeadLetterRow[];
    if (!row) throw new RpcError('NOT_FOUND', `Dead letter ${id} does not exist.`);
    return row;
  }

  private async collect(): Promise<void> {
    if (this.connection.isConnected() && this.channel) {
      for (const service of EVENT_CONSUMERS) await this.collectQueue(topologyNames(this.naming, service).deadLetterQueue);
    }
    await this.collectStream(this.naming.key(`${Streams.Votes}:dead`), this.naming.key(Streams.Votes));
  }

  private async collectQueue(queue: string): Promise<void> {
    const channel = this.channel!;
    try {
      await channel.checkQueue(queue);
    } catch {
      return; // not declared (yet): its service never consumed events
    }
    for (let i = 0; i < BATCH; i++) {
      const message = (await channel.get(queue, { noAck: false })) as GetMessage | false;
      if (!message) return;
      const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
      const text = message.content.toString('utf8');
      // Content that is not JSON is shown as its text (the raw bytes are kept for a replay).
      let payload: unknown = text.slice(0, 10_000);
      try {
        payload = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const death = Array.isArray(headers['x-death']) ? (headers['x-death'] as { reason?: string }[])[0] : undefined;
      const originId = `${String(message.properties.messageId ?? '')}:${createHash('sha256').update(message.content).digest('hex').slice(0, 32)}`;
      await this.dataSource.query(
        `INSERT INTO dead_letters (id, kind, source, origin_id, type, error, failed_at, attempts, payload, raw, headers)
         VALUES ($1, 'queue', $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, source, origin_id) DO NOTHING`,
        [
          randomUUID(),
          queue,
          originId,
          String(message.properties.type ?? (payload as { type?: string } | null)?.type ?? '') || null,
          String(headers[AmqpHeaders.Error] ?? (death ? `rejected (${death.reason ?? 'dead-lettered'})` : 'dead-lettered')).slice(0, 2000),
          dateOr(headers[AmqpHeaders.FailedAt]),
          Number(headers[AmqpHeaders.RetryCount] ?? 0) + 1,
          JSON.stringify(payload),
          message.content.toString('base64'),
          JSON.stringify(stripBinary(headers)),
        ],
      );
      channel.ack(message);
    }
  }

  private async collectStream(deadStream: string, origin: string): Promise<void> {
    const entries = (await this.redis.xrange(deadStream, '-', '+', 'COUNT', BATCH)) as [string, string[]][];
    for (const [id, flat] of entries) {
      const fields = fieldsToRecord(flat);
      const letter = parseDeadLetter(fields);
      await this.dataSource.query(
        `INSERT INTO dead_letters (id, kind, source, origin_id, type, error, failed_at, attempts, payload, raw)
         VALUES ($1, 'stream', $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (kind, source, origin_id) DO NOTHING`,
        [randomUUID(), origin, `${letter.id}:${id}`, `${Streams.Votes} entry`, letter.error.slice(0, 2000), dateOr(letter.at), letter.deliveries, JSON.stringify(letter.fields), JSON.stringify(fields)],
      );
      await this.redis.xdel(deadStream, id);
    }
  }
}

function dateOr(value: unknown): Date {
  const date = new Date(String(value ?? ''));
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

/** Headers as JSON: the broker's `x-death` records keep their meaning, binary values do not survive. */
function stripBinary(headers: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(headers, (_, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v))) as Record<string, unknown>;
}

function view(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    kind: row.kind,
    source: row.source,
    type: row.type,
    error: row.error,
    failedAt: row.failed_at.toISOString(),
    attempts: row.attempts,
    payload: row.payload,
    status: row.status,
    handledAt: row.handled_at?.toISOString() ?? null,
  };
}

