import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { acceptCorrelationId, runWithContext } from '@flotilla/observability';
import { isDependencyUnavailable } from '../rabbit/dependency-errors.js';
import { blockingReader, waitUntilReady, watchConnection } from '../redis/redis-client.js';
import {
  backoffMs,
  countedDeliveries,
  delay,
  messageOf,
  positive,
  type Delivery,
  type StreamBatchHandler,
  type StreamConsumerOptions,
  type StreamConsumerStats,
  type StreamLag,
} from './stream-consumer-options.js';
import { DeadLetters } from './stream-dead-letters.js';
import { fieldsToRecord } from './stream-entry.js';
import { StreamMaintenance } from './stream-maintenance.js';
import { PendingEntries } from './stream-pending.js';

export { defaultConsumerName, type StreamBatchHandler, type StreamConsumerOptions, type StreamConsumerStats, type StreamLag } from './stream-consumer-options.js';

/**
 * What handling a batch came to. `outage`: a dependency is unreachable; `held` are the
 * entries not handled because of it, to retry once it is back.
 */
type Result = { outcome: 'ok' | 'partial' | 'failed' } | { outcome: 'outage'; held: Delivery[]; error: string };

/** Single retries that all fail before any succeeds: the fault is not in the entries. */
const SYSTEMIC_FAILURES = 3;

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
  private readonly handler: StreamBatchHandler;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly lingerMs: number;
  private readonly claimIdleMs: number;
  private readonly maxDeliveries: number;
  private readonly trimIntervalMs: number;
  private readonly startId: string;
  private readonly pending: PendingEntries;
  private readonly deadLetters: DeadLetters;
  private readonly maintenance: StreamMaintenance;

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
  private readonly counters = { processed: 0, reclaimed: 0, failedBatches: 0, outageFailures: 0 };

  constructor(options: StreamConsumerOptions) {
    this.redis = options.redis;
    this.stream = options.stream;
    this.group = options.group;
    this.consumer = options.consumer;
    this.handler = options.handler;
    this.batchSize = positive('batchSize', options.batchSize ?? 100);
    this.blockMs = positive('blockMs', options.blockMs ?? 2000);
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.claimIdleMs = positive('claimIdleMs', options.claimIdleMs ?? 30_000);
    this.maxDeliveries = positive('maxDeliveries', options.maxDeliveries ?? 5);
    this.trimIntervalMs = options.trimIntervalMs ?? 10_000;
    this.startId = options.startId ?? '0';
    this.logger = new Logger(`StreamConsumer ${options.stream}`);
    const names = { stream: this.stream, group: this.group, consumer: this.consumer };
    this.pending = new PendingEntries(this.redis, { ...names, batchSize: this.batchSize, claimIdleMs: this.claimIdleMs, maxDeliveries: this.maxDeliveries });
    this.deadLetters = new DeadLetters(
      this.redis,
      { ...names, deadLetterStream: options.deadLetterStream ?? `${options.stream}:dead`, ledger: this.pending.ledger, onDeadLetter: options.onDeadLetter },
      this.logger,
    );
    this.maintenance = new StreamMaintenance(this.redis, { ...names, forgetConsumersAfterMs: options.forgetConsumersAfterMs ?? 3_600_000 }, this.logger);
  }

  get processed(): number {
    return this.counters.processed;
  }

  get deadLettered(): number {
    return this.deadLetters.count;
  }

  get stats(): StreamConsumerStats {
    return { ...this.counters, deadLettered: this.deadLetters.count, trimmed: this.maintenance.trimmed };
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
        const result: Result = batch.length > 0 ? await this.process(batch) : { outcome: 'ok' };
        if (result.outcome === 'outage') {
          // What was read ahead is this consumer's too: kept with the held batch, handled after it.
          const next = ahead ? await ahead.catch((): Delivery[] => []) : [];
          ahead = next.length > 0 ? Promise.resolve(next) : undefined;
          await this.waitOut(result.held, next, result.error);
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
    this.counters.reclaimed += batch.length + exhausted.length;
    for (const entry of exhausted) await this.deadLetters.exhausted(entry);
    if (batch.length > 0) this.logger.log(`reclaimed ${batch.length} pending entries idle over ${this.claimIdleMs} ms`);
    return batch;
  }

  /** Handles a batch; on failure, entry by entry. Acks what succeeded, dead-letters what is out of deliveries. */
  private async process(batch: Delivery[]): Promise<Result> {
    const batchError = await this.attempt(batch);
    if (batchError === undefined) {
      await this.ack(batch);
      return { outcome: 'ok' };
    }
    this.counters.failedBatches += 1;
    // An unreachable dependency fails every entry alike: no point trying them one by one.
    if (isDependencyUnavailable(batchError)) return this.outage(batch, batchError);
    const done: Delivery[] = [];
    const failed: [Delivery, string][] = [];
    let held: Delivery[] = [];
    let outageError: unknown;
    if (batch.length === 1) {
      failed.push([batch[0]!, messageOf(batchError)]);
    } else {
      // Entries that failed before go last, so a few poison entries at the front cannot
      // make the pass look like a general outage every time.
      const ordered = [...batch].sort((a, b) => Number(this.deadLetters.failedBefore(a.id)) - Number(this.deadLetters.failedBefore(b.id)));
      for (const [i, entry] of ordered.entries()) {
        if (done.length === 0 && failed.length >= SYSTEMIC_FAILURES) break;
        const error = await this.attempt([entry]);
        if (error === undefined) done.push(entry);
        else if (isDependencyUnavailable(error)) {
          // The dependency went away meanwhile: this entry and the untried ones wait for it.
          held = ordered.slice(i);
          outageError = error;
          break;
        } else failed.push([entry, messageOf(error)]);
      }
    }
    if (done.length > 0) await this.ack(done);
    for (const [entry, error] of failed) this.deadLetters.remember(entry.id, error);

    if (held.length === 0 && done.length === 0 && failed.length >= SYSTEMIC_FAILURES) {
      // Nothing succeeds, whatever the entry, though no dependency says it is down: the
      // entries stay pending and come back after claimIdleMs, each delivery counted.
      this.logger.warn(`handler fails for every entry (${messageOf(batchError)}); ${batch.length} entries stay pending for redelivery`);
      return { outcome: 'failed' };
    }
    for (const [entry, error] of failed) {
      const counted = countedDeliveries(entry);
      if (counted >= this.maxDeliveries) await this.deadLetters.move(entry, error);
      else this.logger.warn(`entry ${entry.id} failed (delivery ${counted} of ${this.maxDeliveries}): ${error}`);
    }
    if (held.length > 0) return this.outage(held, outageError);
    return { outcome: done.length > 0 ? 'partial' : 'failed' };
  }

  /** Records the delivery of `held` as failed for an outage (not counted), and says to wait it out. */
  private async outage(held: Delivery[], error: unknown): Promise<Result> {
    this.counters.outageFailures += 1;
    // When Redis is unreachable too, it is recorded on the next failed retry.
    await this.pending.recordOutage(held).catch((e: unknown) => this.logger.debug(`outage not recorded yet: ${messageOf(e)}`));
    return { outcome: 'outage', held, error: messageOf(error) };
  }

  /**
   * Holds `held` (and `alsoOwned`, read ahead) while a dependency is unreachable: retries
   * the batch with backoff until it is handled, and meanwhile resets their idle time so no
   * other consumer takes them over. Returns when the batch is handled (or failed for
   * another reason, then handled as any failure), or when stopping: held entries stay
   * pending, their failed delivery recorded as an outage's.
   */
  private async waitOut(held: Delivery[], alsoOwned: Delivery[], error: string): Promise<void> {
    const since = Date.now();
    this.logger.warn(`a dependency is unreachable (${error}); ${held.length} entries held and retried until it is back, not counted as deliveries`);
    let owned = new Set([...held, ...alsoOwned].map((e) => e.id));
    const keep = (): void => {
      this.pending.keep([...owned]).then(
        (ids) => (owned = new Set(ids)),
        (e: unknown) => this.logger.debug(`held entries not kept: ${messageOf(e)}`),
      );
    };
    const keeper = setInterval(keep, Math.max(50, Math.floor(this.claimIdleMs / 3)));
    try {
      for (let attempt = 1; !this.stopping; attempt++) {
        await this.pause(backoffMs(attempt));
        // An entry another consumer took over (this one was too slow to keep it) is theirs now.
        held = held.filter((e) => owned.has(e.id));
        if (this.stopping || held.length === 0) return;
        const result = await this.process(held);
        if (result.outcome !== 'outage') {
          this.logger.log(`dependency reachable again after ${Date.now() - since} ms; held entries handled`);
          return;
        }
        held = result.held;
        if (attempt % 10 === 0) this.logger.warn(`still waiting for a dependency after ${Date.now() - since} ms (${result.error}); ${held.length} entries held`);
      }
    } finally {
      clearInterval(keeper);
    }
  }

  /** Runs the handler; resolves with the error instead of throwing. */
  private async attempt(entries: Delivery[]): Promise<unknown> {
    const correlationId = acceptCorrelationId(entries.length === 1 ? entries[0]!.fields.correlationId : undefined);
    try {
      await runWithContext({ correlationId }, () => this.handler(entries.map(({ id, fields }) => ({ id, fields }))));
      return undefined;
    } catch (error) {
      return error ?? new Error('handler failed without an error');
    }
  }

  /** XACK after the handler committed. A failed ack throws: the entries are redelivered, and the handler is idempotent. */
  private async ack(entries: Delivery[]): Promise<void> {
    this.counters.processed += entries.length;
    for (const entry of entries) this.deadLetters.forget(entry.id);
    await this.pending.ack(entries);
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
