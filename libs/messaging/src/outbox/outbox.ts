import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BaseEnv, ENV } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import { correlationId, MetricsService, withTraceContextOf } from '@flotilla/observability';
import { randomUUID } from 'node:crypto';
import type { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../rabbit/event-publisher.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from '../rabbit/rabbit-options.js';
import { errorMessage } from '../rabbit/wire.js';
import { claimRows, countPending, markPublished, releaseClaims } from './outbox-claims.js';
import type { SqlRunner } from './outbox-tables.js';
import { OUTBOX_TRACE_KEY, traceHeaders } from '../trace-context.js';

export { markEventProcessed, OUTBOX_CLAIMS_DOWN_SQL, OUTBOX_CLAIMS_SQL, OUTBOX_TABLES_SQL, type SqlRunner } from './outbox-tables.js';

const RELAY_BATCH = 100;
const PRUNE_AFTER_HOURS = 24;

/**
 * The transactional outbox: {@link add} writes an event in the caller's transaction,
 * and a relay publishes what was committed, with publisher confirms, retrying with
 * backoff until the broker confirms. The relay claims a batch in one short statement
 * (a lease in `claimed_until`), publishes it holding no row lock, then marks what was
 * confirmed. Replicas share the table: a claimed row is skipped by the others until its
 * claim runs out, so a relay that dies mid-batch delays its rows by the lease, never
 * loses them.
 *
 * Delivery is at least once: an event whose confirm was lost, or whose relay died
 * after publishing, is published again; consumers dedupe by id
 * ({@link markEventProcessed}). Order: one relay hands a batch to the broker in `seq`
 * order (the order the rows were written, not quite commit order), but batches of
 * different replicas interleave and a retried event comes after later ones, so
 * consumers must not rely on the order of events.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private readonly pendingGauge: Gauge;
  /** How long a claim holds: well past the time one batch may take to be confirmed. */
  private readonly leaseMs: number;
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
    @Inject(ENV) env: BaseEnv,
  ) {
    this.pendingGauge = metrics.gauge({ name: 'outbox_pending', help: 'Committed events not yet confirmed by the broker' });
    // A batch is published at once, each event waiting at most RPC_TIMEOUT_MS for its confirm.
    this.leaseMs = Math.max(30_000, 3 * env.RPC_TIMEOUT_MS);
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
    // The trace of the work adding the event rides along, so the relay's publish continues it.
    const trace = traceHeaders();
    const stored = Object.keys(trace).length > 0 ? { ...envelope, [OUTBOX_TRACE_KEY]: trace } : envelope;
    await runner.query(`INSERT INTO outbox (id, type, envelope) VALUES ($1, $2, $3)`, [envelope.id, type, JSON.stringify(stored)]);
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
    } finally {
      await countPending(this.dataSource).then(
        (pending) => this.pendingGauge.set(pending),
        () => undefined,
      );
    }
  }

  /**
   * Claims a batch, publishes it (all at once, in `seq` order, each awaiting its
   * confirm), marks the confirmed rows and gives the others back. Returns how many it
   * claimed; throws the first publishing failure after recording it. Each event is
   * signed as it is sent, not when it was written: its signature does not expire, so a
   * row relayed hours later, or an event waiting out an outage in a queue, stays valid.
   */
  private async publishBatch(): Promise<number> {
    const rows = await claimRows(this.dataSource, RELAY_BATCH, this.leaseMs);
    if (rows.length === 0) return 0;
    // Each in the trace of the work that added it (a new trace when it was added untraced).
    const results = await Promise.allSettled(rows.map((row) => withTraceContextOf(row.trace, () => this.publisher.publishTraced(row.envelope))));
    const sent = rows.filter((_, i) => results[i].status === 'fulfilled').map((row) => row.seq);
    const failed = rows.filter((_, i) => results[i].status === 'rejected').map((row) => row.seq);
    // Should this fail (Postgres gone), the claims run out and the rows are published again: a duplicate, never a loss.
    if (sent.length > 0) await markPublished(this.dataSource, sent);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await releaseClaims(this.dataSource, failed, errorMessage(failure.reason));
      throw failure.reason;
    }
    return rows.length;
  }

  /** Published events are kept a day for inspection, then removed. */
  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    await this.dataSource.query(`DELETE FROM outbox WHERE published_at < now() - interval '${PRUNE_AFTER_HOURS} hours'`);
  }
}
