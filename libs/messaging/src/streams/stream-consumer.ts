import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { blockingReader, waitUntilReady, watchConnection } from '../redis/redis-client.js';
import { BatchHandling, type BatchResult } from './stream-batches.js';
import { backoffMs, delay, messageOf, positive, type Delivery, type StreamConsumerOptions, type StreamConsumerStats, type StreamLag } from './stream-consumer-options.js';
import { DeadLetters } from './stream-dead-letters.js';
import { fieldsToRecord } from './stream-entry.js';
import { StreamMaintenance } from './stream-maintenance.js';
import { PendingEntries } from './stream-pending.js';

export { defaultConsumerName, type StreamBatchHandler, type StreamConsumerOptions, type StreamConsumerStats, type StreamLag } from './stream-consumer-options.js';

/**
 * A consumer-group reader for one Redis stream that acknowledges an entry only after
 * its handler committed it. Failed entries stay pending and come back after
 * `claimIdleMs`; a failing batch is retried entry by entry so one poison entry cannot
 * hold up the others, and an entry failing `maxDeliveries` times goes to the
 * dead-letter stream. A failure because a dependency is unreachable (as event consumers
 * judge it, `isDependencyUnavailable`) is waited out instead: the consumer holds the
 * batch, retries it with backoff until it succeeds, keeps other consumers from taking it
 * over meanwhile, and records the delivery as an outage's so it is never counted,
 * whichever consumer delivers the entry next. Entries of crashed consumers are
 * reclaimed with XAUTOCLAIM; the stream is trimmed (XTRIM MINID) only below what every
 * group has acknowledged. The next batch is read while the current one is handled.
 * Survives Redis restarts: it reconnects and re-creates the group if the stream vanished.
 */
export class StreamConsumer {
  private readonly logger: Logger;
  private readonly redis: Redis;
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer: string;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly lingerMs: number;
  private readonly claimIdleMs: number;
  private readonly trimIntervalMs: number;
  private readonly startId: string;
  private readonly pending: PendingEntries;
  private readonly deadLetters: DeadLetters;
  private readonly maintenance: StreamMaintenance;
  private readonly batches: BatchHandling;

  private reader: Redis | undefined;
  private readerId: string | undefined;
  private reading = false;
  /** When the last read that found entries, but fewer than a batch, returned. */
  private partialReadAt = 0;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private groupReady = false;
  private trimTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private reclaimed = 0;

  constructor(options: StreamConsumerOptions) {
    this.redis = options.redis;
    this.stream = options.stream;
    this.group = options.group;
    this.consumer = options.consumer;
    this.batchSize = positive('batchSize', options.batchSize ?? 100);
    this.blockMs = positive('blockMs', options.blockMs ?? 2000);
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.claimIdleMs = positive('claimIdleMs', options.claimIdleMs ?? 30_000);
    const maxDeliveries = positive('maxDeliveries', options.maxDeliveries ?? 5);
    this.trimIntervalMs = options.trimIntervalMs ?? 10_000;
    this.startId = options.startId ?? '0';
    this.logger = new Logger(`StreamConsumer ${options.stream}`);
    const names = { stream: this.stream, group: this.group, consumer: this.consumer };
    this.pending = new PendingEntries(this.redis, { ...names, batchSize: this.batchSize, claimIdleMs: this.claimIdleMs, maxDeliveries });
    this.deadLetters = new DeadLetters(
      this.redis,
      { ...names, deadLetterStream: options.deadLetterStream ?? `${options.stream}:dead`, ledger: this.pending.ledger, onDeadLetter: options.onDeadLetter },
      this.logger,
    );
    this.batches = new BatchHandling(
      { stream: this.stream, handler: options.handler, maxDeliveries, claimIdleMs: this.claimIdleMs },
      this.pending,
      this.deadLetters,
      { stopping: () => this.stopping, pause: (ms) => this.pause(ms) },
      this.logger,
    );
    this.maintenance = new StreamMaintenance(this.redis, { ...names, forgetConsumersAfterMs: options.forgetConsumersAfterMs ?? 3_600_000 }, this.logger);
  }

  get processed(): number {
    return this.batches.processed;
  }

  get deadLettered(): number {
    return this.deadLetters.count;
  }

  get stats(): StreamConsumerStats {
    const { processed, failedBatches, outageFailures } = this.batches;
    return { processed, deadLettered: this.deadLetters.count, reclaimed: this.reclaimed, failedBatches, trimmed: this.maintenance.trimmed, outageFailures };
  }

  get isRunning(): boolean {
    return this.loop !== undefined;
  }

  /**
   * Opens the reading connection, creates the group (MKSTREAM) if it does not exist and
   * starts consuming in the background. Resolves after the first attempt to create the
   * group; when Redis is down it keeps trying and never rejects.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    const reader = blockingReader(this.redis, this.blockMs, `${this.consumer}:reader`);
    watchConnection(reader, `${this.stream} reader`);
    // CLIENT UNBLOCK needs the reader's id, which changes with every reconnection.
    reader.on('ready', () => {
      reader.call('CLIENT', 'ID').then(
        (id) => (this.readerId = String(id)),
        () => (this.readerId = undefined),
      );
    });
    this.reader = reader;
    if (await waitUntilReady(reader, 5000)) {
      await this.ensureGroup().catch((error: unknown) => this.logger.warn(`group ${this.group} not created yet: ${messageOf(error)}`));
    }
    this.loop = this.run();
    // On its own timer, so a long batch does not hold trimming up.
    if (this.trimIntervalMs > 0) this.trimTimer = setInterval(() => void this.maintenance.run(), this.trimIntervalMs);
  }

  /**
   * Graceful drain: stops reading, lets the batch in hand (and the one already read
   * ahead) finish and be acknowledged, then closes the reading connection. The shared
   * connection stays open. Entries of a consumer that died instead stay pending until
   * another one reclaims them; so do those held through an outage, their delivery not counted.
   */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.stopping = true;
    clearInterval(this.trimTimer);
    this.wakeUp?.();
    let finished = false;
    void loop.then(() => (finished = true));
    while (!finished) {
      // A read blocked in Redis returns at once, empty, as if it had timed out.
      if (this.reading) await this.unblockReader();
      await Promise.race([loop, delay(100)]);
    }
    this.loop = undefined;
    await this.maintenance.settled();
    const reader = this.reader;
    this.reader = undefined;
    await reader?.quit().catch(() => reader.disconnect());
  }

  /** Entries not yet delivered to the group, and delivered but unacknowledged (XINFO GROUPS). */
  lag(): Promise<StreamLag> {
    return this.maintenance.lag();
  }

  /**
   * Removes the entries every group of the stream has acknowledged (XTRIM MINID), and
   * resolves with their number. Runs periodically by itself; public for maintenance.
   */
  trim(): Promise<number> {
    return this.maintenance.trim();
  }

  private async run(): Promise<void> {
    let failures = 0;
    // The next batch, read while the current one is handled so Redis and the handler's
    // work overlap. Its entries are delivered to this consumer, so it is always handled,
    // also when stopping.
    let ahead: Promise<Delivery[]> | undefined;
    while (!this.stopping || ahead) {
      try {
        const reader = this.reader!;
        if (reader.status !== 'ready' && !ahead) {
          await waitUntilReady(reader, 250);
          continue;
        }
        if (!this.groupReady && !ahead) await this.ensureGroup();
        let batch = this.pending.claimDue && !this.stopping ? await this.claim() : [];
        if (batch.length === 0 && ahead) {
          const next = ahead;
          ahead = undefined;
          batch = await next;
        }
        if (batch.length === 0 && !this.stopping) {
          await this.linger();
          if (!this.stopping) batch = await this.read(reader);
        }
        // Reading ahead would cut lingering short; with a backlog there is nothing to wait for.
        const readAhead = this.lingerMs === 0 || batch.length >= this.batchSize;
        if (batch.length > 0 && readAhead && !ahead && !this.stopping) {
          ahead = this.read(reader);
          // Awaited on the next turn; until then a rejection must not count as unhandled.
          ahead.catch(() => undefined);
        }
        const result: BatchResult = batch.length > 0 ? await this.batches.process(batch) : { outcome: 'ok' };
        if (result.outcome === 'outage') {
          // What was read ahead is this consumer's too: kept with the held batch, handled after it.
          const next = ahead ? await ahead.catch((): Delivery[] => []) : [];
          ahead = next.length > 0 ? Promise.resolve(next) : undefined;
          await this.batches.waitOut(result.held, next, result.error);
          failures = 0;
        } else if (result.outcome === 'failed') {
          failures += 1;
          await this.pause(backoffMs(failures));
        } else {
          failures = 0;
        }
      } catch (error) {
        // After a Redis restart the stream, and the group with it, may be gone.
        this.groupReady = false;
        failures += 1;
        const log = `consuming paused (${messageOf(error)}); retrying in ${backoffMs(failures)} ms`;
        if (failures === 1) this.logger.warn(log);
        else this.logger.debug(log);
        await this.pause(backoffMs(failures));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.call('XGROUP', 'CREATE', this.stream, this.group, this.startId, 'MKSTREAM');
      this.logger.log(`created group ${this.group} on ${this.stream}`);
      this.pending.restart();
    } catch (error) {
      if (!messageOf(error).startsWith('BUSYGROUP')) throw error;
    }
    this.groupReady = true;
  }

  private async read(reader: Redis): Promise<Delivery[]> {
    this.reading = true;
    let reply: [string, [string, string[]][]][] | null;
    try {
      reply = (await reader.call(
        'XREADGROUP', 'GROUP', this.group, this.consumer,
        'COUNT', this.batchSize, 'BLOCK', this.blockMs,
        'STREAMS', this.stream, '>',
      )) as [string, [string, string[]][]][] | null;
    } finally {
      this.reading = false;
    }
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length > 0 && entries.length < this.batchSize) this.partialReadAt = Date.now();
    return entries.map(([id, flat]) => ({ id, fields: fieldsToRecord(flat), deliveries: 1, outages: 0 }));
  }

  /** Takes over idle entries; those out of deliveries go to the dead-letter stream unhandled. */
  private async claim(): Promise<Delivery[]> {
    const { batch, exhausted } = await this.pending.claim();
    this.reclaimed += batch.length + exhausted.length;
    for (const entry of exhausted) await this.deadLetters.exhausted(entry);
    if (batch.length > 0) this.logger.log(`reclaimed ${batch.length} pending entries idle over ${this.claimIdleMs} ms`);
    return batch;
  }

  private async unblockReader(): Promise<void> {
    try {
      if (this.readerId === undefined) throw new Error('reader id unknown');
      await this.redis.call('CLIENT', 'UNBLOCK', this.readerId);
    } catch {
      // Cannot unblock it politely (Redis unreachable, say): closing the socket ends the read too.
      this.reader?.disconnect();
    }
  }

  /** Waits out the rest of `lingerMs` after a partial read (not at all after a full or an empty one). */
  private linger(): Promise<void> {
    if (this.lingerMs === 0 || this.partialReadAt === 0) return Promise.resolve();
    const left = this.partialReadAt + this.lingerMs - Date.now();
    this.partialReadAt = 0;
    return left > 0 ? this.pause(left) : Promise.resolve();
  }

  /** Waits `ms`, or less when stop() is called. */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === finish) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = finish;
    });
  }
}
