import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EventEnvelope } from '@flotilla/contracts';
import { correlationId, MetricsService } from '@flotilla/observability';
import { randomUUID } from 'node:crypto';
import type { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../rabbit/event-publisher.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from '../rabbit/rabbit-options.js';
import { errorMessage } from '../rabbit/wire.js';

/** Anything that runs SQL: a TypeORM `EntityManager` inside a transaction, or a `QueryRunner`. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * The tables a service needs for the outbox and for idempotent consumers; run them in
 * one of the service's migrations. `outbox.seq` keeps the publishing order.
 */
export const OUTBOX_TABLES_SQL: readonly string[] = [
  `CREATE TABLE outbox (
     seq bigserial PRIMARY KEY,
     id uuid NOT NULL UNIQUE,
     type text NOT NULL,
     envelope jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     published_at timestamptz,
     attempts integer NOT NULL DEFAULT 0,
     last_error text
   )`,
  `CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL`,
  `CREATE TABLE processed_events (
     event_id uuid PRIMARY KEY,
     type text NOT NULL,
     processed_at timestamptz NOT NULL DEFAULT clock_timestamp()
   )`,
];

/**
 * Records that this service handled event `envelope` in the caller's transaction.
 * Resolves false when it had been recorded before: the caller skips the work, so a
 * redelivered event is applied once.
 */
export async function markEventProcessed(runner: SqlRunner, envelope: Pick<EventEnvelope, 'id' | 'type'>): Promise<boolean> {
  const rows = (await runner.query(
    `INSERT INTO processed_events (event_id, type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [envelope.id, envelope.type],
  )) as unknown[];
  return rows.length === 1;
}

const RELAY_BATCH = 100;
const PRUNE_AFTER_HOURS = 24;

/**
 * The transactional outbox: {@link add} writes an event in the caller's transaction,
 * and a relay publishes what was committed, with publisher confirms, in commit order,
 * retrying with backoff until the broker confirms. Several replicas share the table
 * safely (`FOR UPDATE SKIP LOCKED`). An event can be published twice (confirm lost,
 * then retried) but never lost; consumers dedupe by id ({@link markEventProcessed}).
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private readonly pendingGauge: Gauge;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private failures = 0;
  private lastPrune = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    metrics: MetricsService,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
  ) {
    this.pendingGauge = metrics.gauge({ name: 'outbox_pending', help: 'Committed events not yet confirmed by the broker' });
  }

  /** Writes a new event of `type` in the caller's transaction; call {@link flush} after the commit. */
  async add<T>(runner: SqlRunner, type: string, data: T): Promise<EventEnvelope<T>> {
    const envelope: EventEnvelope<T> = {
      id: randomUUID(),
      type,
      occurredAt: new Date().toISOString(),
      source: this.options.service,
      correlationId: correlationId(),
      data,
    };
    await runner.query(`INSERT INTO outbox (id, type, envelope) VALUES ($1, $2, $3)`, [envelope.id, type, JSON.stringify(envelope)]);
    return envelope;
  }

  /** Publishes what is waiting now rather than at the next poll. Never rejects. */
  flush(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.relay().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.flush();
      }
    });
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /** Stops polling and waits for the batch being published. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.flush();
      void this.running?.then(() => this.schedule(this.nextDelay()));
    }, delayMs);
    this.timer.unref();
  }

  /** 1 s between polls; after failures, doubling up to 30 s. */
  private nextDelay(): number {
    return this.failures === 0 ? 1000 : Math.min(30_000, 1000 * 2 ** Math.min(this.failures, 5));
  }

  private async relay(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) === RELAY_BATCH) {
        // a full batch: more may be waiting
      }
      await this.prune();
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.logger.warn(`outbox relay paused (attempt ${this.failures}): ${errorMessage(error)}`);
    }
  }

  /** Publishes up to one batch in order; returns how many were published. Throws on the first failure. */
  private async publishBatch(): Promise<number> {
    // The failure is thrown after the commit, which keeps the rows marked published before it.
    const { count, failure } = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT seq, envelope FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ${RELAY_BATCH} FOR UPDATE SKIP LOCKED`,
      )) as { seq: string; envelope: EventEnvelope }[];
      const published: string[] = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.publisher.publishEnvelope(row.envelope);
          published.push(row.seq);
        } catch (error) {
          failure = error;
          await manager.query(`UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = $1`, [row.seq, errorMessage(error)]);
          break;
        }
      }
      if (published.length > 0) {
        await manager.query(`UPDATE outbox SET published_at = clock_timestamp(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])`, [published]);
      }
      const [{ pending }] = (await manager.query(`SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL`)) as { pending: number }[];
      this.pendingGauge.set(pending);
      return { count: published.length, failure };
    });
    if (failure) throw failure;
    return count;
  }

  /** Published events are kept a day for inspection, then removed. */
  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    await this.dataSource.query(`DELETE FROM outbox WHERE published_at < now() - interval '${PRUNE_AFTER_HOURS} hours'`);
  }
}
