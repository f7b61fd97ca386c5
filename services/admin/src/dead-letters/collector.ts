import type { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { GetMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AmqpHeaders, fieldsToRecord, parseDeadLetter } from '@flotilla/messaging';
import { enqueueNotification } from '../notifications/enqueue.js';
import { appendHistory } from './dead-letter-row.js';
import type { DeadLetterSources, DeadLetterStream } from './sources.js';

const BATCH = 200;

/** What one death of a letter adds to `dead_letters`. */
interface Death {
  kind: 'queue' | 'stream';
  source: string;
  originId: string;
  deathKey: string;
  type: string | null;
  error: string;
  failedAt: Date;
  attempts: number;
  payload: unknown;
  raw: string;
  headers: Record<string, unknown>;
}

/**
 * A new letter is inserted `dead`. A letter already known (same identity) that died
 * again — after a replay, or even after a discard — goes back to `dead` with the new
 * error and attempts, its replay count and history kept, and any claim on it dropped.
 * The same death collected twice (a crash between storing and acknowledging it, two
 * collectors reading one stream) changes nothing.
 */
const UPSERT = `
  INSERT INTO dead_letters AS d (id, kind, source, origin_id, death_key, type, error, failed_at, attempts, payload, raw, headers, history)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
          jsonb_build_array(jsonb_build_object('at', $8::timestamptz, 'event', 'dead', 'error', $7::text, 'attempts', $9::int)))
  ON CONFLICT (kind, source, origin_id) DO UPDATE SET
    status = 'dead', error = EXCLUDED.error, failed_at = EXCLUDED.failed_at, attempts = EXCLUDED.attempts,
    payload = EXCLUDED.payload, raw = EXCLUDED.raw, headers = EXCLUDED.headers, death_key = EXCLUDED.death_key,
    type = COALESCE(EXCLUDED.type, d.type), handled_at = NULL, handled_by = NULL, claim_id = NULL, claimed_at = NULL,
    history = ${appendHistory(`jsonb_build_object('at', EXCLUDED.failed_at, 'event', 'dead', 'error', EXCLUDED.error, 'attempts', EXCLUDED.attempts)`, 'd.history')}
  WHERE d.death_key IS DISTINCT FROM EXCLUDED.death_key
  RETURNING d.id`;

/**
 * Moves dead letters into `dead_letters`: every consumer's dead-letter queue and every
 * `<stream>:dead`. Each is stored before it is acknowledged (or deleted from its
 * stream), so none is lost and a crash in between only finds the same death again.
 * Also returns replays that never finished (their sender died) to `dead`.
 */
export class DeadLetterCollector {
  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly sources: DeadLetterSources,
    private readonly staleReplayMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Collects every queue (while `channel` is usable) and stream once; one source that
   * fails does not keep the others waiting. Rejects naming those that failed.
   */
  async collect(channel: ChannelWrapper | undefined): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await attempt('stale replays', () => this.recoverStaleReplays());
    if (channel) for (const queue of this.sources.queues) await attempt(queue, () => this.collectQueue(channel, queue));
    for (const stream of this.sources.streams) await attempt(stream.dead, () => this.collectStream(stream));
    if (failures.length > 0) throw new Error(failures.join('; '));
  }

  /**
   * A letter `replaying` for longer than a send can take (its sender crashed, or lost
   * Postgres after sending) goes back to `dead`, saying so: it may have been sent, which
   * is harmless as consumers dedupe by message id (votes by voteId), and an operator sees
   * it rather than it waiting for ever.
   */
  private async recoverStaleReplays(): Promise<void> {
    const error = `replay interrupted: claimed but not confirmed within ${Math.round(this.staleReplayMs / 1000)} s; it may have been sent`;
    const [rows] = (await this.dataSource.query(
      `UPDATE dead_letters SET status = 'dead', claim_id = NULL, claimed_at = NULL, error = $2,
              history = ${appendHistory(`jsonb_build_object('at', clock_timestamp(), 'event', 'replay_interrupted', 'error', $2::text)`)}
        WHERE status = 'replaying' AND claimed_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
        RETURNING id`,
      [this.staleReplayMs, error],
    )) as [{ id: string }[], number];
    for (const { id } of rows) this.logger.warn(`dead letter ${id}: ${error}; it is dead again`);
  }

  private async collectQueue(channel: ChannelWrapper, queue: string): Promise<void> {
    for (let i = 0; i < BATCH; i++) {
      const message = (await channel.get(queue, { noAck: false })) as GetMessage | false;
      if (!message) return;
      await this.store(queueDeath(queue, message));
      channel.ack(message);
    }
  }

  private async collectStream(stream: DeadLetterStream): Promise<void> {
    const entries = (await this.redis.xrange(stream.dead, '-', '+', 'COUNT', BATCH)) as [string, string[]][];
    for (const [id, flat] of entries) {
      const fields = fieldsToRecord(flat);
      const letter = parseDeadLetter(fields);
      const known = Object.keys(letter.fields).length > 0;
      await this.store({
        kind: 'stream',
        source: stream.origin,
        // A vote's or request's own fields are its identity: a replay re-adds them unchanged.
        originId: known ? streamOriginId(letter.fields) : `entry:${id}`,
        deathKey: id,
        type: `${stream.name} entry`,
        error: letter.error.slice(0, 2000),
        failedAt: dateOr(letter.at),
        attempts: letter.deliveries,
        payload: letter.fields,
        raw: JSON.stringify(fields),
        headers: {},
      });
      await this.redis.xdel(stream.dead, id);
    }
  }

  /**
   * Stores a death and, when it is news (a new letter, or a known one dead again), queues
   * the `dead_letter` notification in the same transaction. Notification deliveries never
   * become dead letters (they die in their own table), so this cannot loop.
   */
  private async store(death: Death): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [row] = (await m.query(UPSERT, this.values(death))) as { id: string }[];
      if (!row) return;
      await enqueueNotification(m, {
        event: 'dead_letter',
        sourceId: `dead-letter:${row.id}:${death.deathKey}`,
        occurredAt: death.failedAt,
        summary: `A ${death.type ?? 'message'} died in ${death.source} after ${death.attempts} attempt(s): ${death.error.slice(0, 300)}`,
        data: { deadLetterId: row.id, kind: death.kind, source: death.source, type: death.type, error: death.error.slice(0, 1000), attempts: death.attempts },
      });
    });
  }

  private values(death: Death): unknown[] {
    return [
      randomUUID(),
      death.kind,
      death.source,
      death.originId,
      death.deathKey,
      death.type,
      death.error,
      death.failedAt,
      death.attempts,
      JSON.stringify(death.payload),
      death.raw,
      JSON.stringify(death.headers),
    ];
  }
}

function queueDeath(queue: string, message: GetMessage): Death {
  const headers = stripBinary((message.properties.headers ?? {}) as Record<string, unknown>);
  const text = message.content.toString('utf8');
  // Content that is not JSON is shown as its text (the raw bytes are kept for a replay).
  let payload: unknown = text.slice(0, 10_000);
  try {
    payload = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const death = Array.isArray(headers['x-death']) ? (headers['x-death'] as { reason?: string }[])[0] : undefined;
  const type = String(message.properties.type ?? (payload as { type?: string } | null)?.type ?? '') || null;
  return {
    kind: 'queue',
    source: queue,
    // A replay sends the same bytes with the same message id, so a letter that dies again is found again.
    originId: `${String(message.properties.messageId ?? '')}:${hash(message.content).slice(0, 32)}`,
    // Each death has its own headers (time, error, the broker's death records).
    deathKey: hash(JSON.stringify(headers)),
    type,
    error: String(headers[AmqpHeaders.Error] ?? (death ? `rejected (${death.reason ?? 'dead-lettered'})` : 'dead-lettered')).slice(0, 2000),
    failedAt: dateOr(headers[AmqpHeaders.FailedAt]),
    attempts: Number(headers[AmqpHeaders.RetryCount] ?? 0) + 1,
    payload,
    raw: message.content.toString('base64'),
    headers,
  };
}

function hash(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The same record as the same text, whatever order its fields came in. */
export function canonical(record: Record<string, string>): string {
  return JSON.stringify(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The identity of a dead stream entry whose fields are `fields` (also used by the migration). */
export function streamOriginId(fields: Record<string, string>): string {
  return `fields:${hash(canonical(fields))}`;
}

function dateOr(value: unknown): Date {
  const date = new Date(String(value ?? ''));
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

/** Headers as JSON: the broker's `x-death` records keep their meaning, binary values do not survive. */
function stripBinary(headers: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(headers, (_, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v))) as Record<string, unknown>;
}
