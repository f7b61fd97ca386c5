import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { acceptCorrelationId, runWithContext } from '@flotilla/observability';
import { blockingReader, waitUntilReady, watchConnection } from '../redis/redis-client.js';
import {
  compareStreamIds,
  deadLetterToFields,
  fieldsToRecord,
  recordToFields,
  type DeadLetter,
  type StreamEntry,
} from './stream-entry.js';

/**
 * Handles a batch of entries. Resolve only once their effects are durable (committed):
 * the entries are acknowledged right after, and never before. Throwing leaves them
 * pending, to be delivered again.
 */
export type StreamBatchHandler = (entries: StreamEntry[]) => Promise<void>;

export interface StreamConsumerOptions {
  /**
   * The service's connection (acks, claims, trims). The consumer opens its own
   * duplicate of it for the blocking reads, so they never hold up other commands.
   */
  redis: Redis;
  stream: string;
  group: string;
  /** Unique per process (see {@link defaultConsumerName}); a restarted process is a new consumer. */
  consumer: string;
  handler: StreamBatchHandler;
  /** Entries per read and per handler call. Default 100. */
  batchSize?: number;
  /** How long one read waits for new entries. Default 2000. */
  blockMs?: number;
  /**
   * After a read that found fewer than `batchSize` entries (no backlog), wait this long
   * before the next read, so entries arriving one by one are handled many per call
   * (one transaction for many, rather than one each) at the cost of that much latency.
   * A full read is followed at once by the next, as with 0. Default 0.
   */
  lingerMs?: number;
  /**
   * Entries pending longer than this are taken over (XAUTOCLAIM) by whichever consumer
   * looks next: those of a crashed consumer, and failed ones (the retry delay). Must
   * exceed the longest handler call, or a slow batch is handled twice. Default 30000.
   */
  claimIdleMs?: number;
  /**
   * Deliveries an entry gets; one that still fails is moved to the dead-letter stream
   * with its error and acknowledged. Note an outage longer than about
   * `claimIdleMs × maxDeliveries` uses up deliveries too. Default 5.
   */
  maxDeliveries?: number;
  /** Default `<stream>:dead`. */
  deadLetterStream?: string;
  /** How often acknowledged entries are trimmed away; 0 never trims. Default 10000. */
  trimIntervalMs?: number;
  /** Where a new group starts reading: `0` (everything already in the stream) or `$`. Default `0`. */
  startId?: string;
  /** Consumers of the group with nothing pending and idle this long are removed. Default 1 hour. */
  forgetConsumersAfterMs?: number;
  /** Called after an entry went to the dead-letter stream (metrics, alerts). */
  onDeadLetter?: (letter: DeadLetter) => void;
}

/** Figures for metrics and logs, counted since this consumer started. */
export interface StreamConsumerStats {
  /** Entries handled successfully (acknowledged or about to be). */
  processed: number;
  deadLettered: number;
  /** Entries taken over from idle consumers, this one's failed entries included. */
  reclaimed: number;
  failedBatches: number;
  trimmed: number;
}

/** How far the group is behind: entries not yet delivered, and delivered but not acknowledged. */
export interface StreamLag {
  lag: number;
  pending: number;
}

interface Delivery extends StreamEntry {
  /** Times Redis has delivered the entry, this delivery included. */
  deliveries: number;
}

interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  lag: number | null;
}

type Outcome = 'ok' | 'partial' | 'failed';

/** Single retries that all fail before any succeeds: the fault is not in the entries. */
const SYSTEMIC_FAILURES = 3;
const MAX_REMEMBERED_ERRORS = 10_000;
/** Upper bound of the fallback lag count when Redis cannot compute the lag itself. */
const LAG_SCAN_LIMIT = 100_000;

/** `<hostname>-<pid>`: unique per process, so a restarted process never inherits a dead one's entries by name. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function backoffMs(failures: number): number {
  return Math.min(100 * 2 ** Math.max(0, failures - 1), 5000);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A consumer-group reader for one Redis stream that acknowledges an entry only after
 * its handler committed it. Failed entries stay pending and come back after
 * `claimIdleMs`; a failing batch is retried entry by entry so one poison entry cannot
 * hold up the others, and an entry failing `maxDeliveries` times goes to the
 * dead-letter stream. Entries of crashed consumers are reclaimed with XAUTOCLAIM; the
 * stream is trimmed (XTRIM MINID) only below what every group has acknowledged.
 * The next batch is read while the current one is handled. Survives Redis restarts: it
 * reconnects and re-creates the group if the stream vanished.
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
  private readonly deadLetterStream: string;
  private readonly trimIntervalMs: number;
  private readonly startId: string;
  private readonly forgetConsumersAfterMs: number;
  private readonly onDeadLetter?: (letter: DeadLetter) => void;

  private reader: Redis | undefined;
  private readerId: string | undefined;
  private reading = false;
  /** When the last read that found entries, but fewer than a batch, returned. */
  private partialReadAt = 0;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private groupReady = false;
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  private trimTimer: NodeJS.Timeout | undefined;
  private maintaining: Promise<void> | undefined;
  private maintenanceFailing = false;
  private wakeUp: (() => void) | undefined;
  /** Last error of entries that failed here, for the dead letter of a later delivery. */
  private readonly lastErrors = new Map<string, string>();
  private readonly counters: StreamConsumerStats = { processed: 0, deadLettered: 0, reclaimed: 0, failedBatches: 0, trimmed: 0 };

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
    this.deadLetterStream = options.deadLetterStream ?? `${options.stream}:dead`;
    this.trimIntervalMs = options.trimIntervalMs ?? 10_000;
    this.startId = options.startId ?? '0';
    this.forgetConsumersAfterMs = options.forgetConsumersAfterMs ?? 3_600_000;
    this.onDeadLetter = options.onDeadLetter;
    this.logger = new Logger(`StreamConsumer ${options.stream}`);
  }

  get processed(): number {
    return this.counters.processed;
  }

  get deadLettered(): number {
    return this.counters.deadLettered;
  }

  get stats(): StreamConsumerStats {
    return { ...this.counters };
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
    if (this.trimIntervalMs > 0) this.trimTimer = setInterval(() => void this.maintain(), this.trimIntervalMs);
  }

  /**
   * Graceful drain: stops reading, lets the batch in hand (and the one already read
   * ahead) finish and be acknowledged, then closes the reading connection. The shared
   * connection stays open. Entries of a consumer that died instead stay pending until
   * another one reclaims them.
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
    await this.maintaining;
    const reader = this.reader;
    this.reader = undefined;
    await reader?.quit().catch(() => reader.disconnect());
  }

  /** Entries not yet delivered to the group, and delivered but unacknowledged (XINFO GROUPS). */
  async lag(): Promise<StreamLag> {
    const groups = await this.groups();
    const own = groups.find((g) => g.name === this.group);
    if (!own) return { lag: Number(await this.redis.xlen(this.stream)), pending: 0 };
    let lag = own.lag;
    if (lag === null) {
      // Redis cannot tell after deletions inside the range; count what follows the group's position.
      const rest = (await this.redis.call('XRANGE', this.stream, `(${own.lastDeliveredId}`, '+', 'COUNT', LAG_SCAN_LIMIT)) as unknown[];
      lag = rest.length;
    }
    return { lag, pending: own.pending };
  }

  /**
   * Removes the entries every group of the stream has acknowledged: XTRIM MINID to the
   * oldest entry still pending, or not yet delivered, in any group. Resolves with the
   * number of entries removed. Runs periodically by itself; public for maintenance.
   */
  async trim(): Promise<number> {
    const groups = await this.groups();
    if (groups.length === 0) return 0;
    let keepFrom: string | undefined;
    for (const group of groups) {
      // Pending entries are older than the last delivered id; without any, everything up to
      // and including that id was acknowledged, and it is the oldest we must consider.
      let oldest = group.lastDeliveredId;
      if (group.pending > 0) {
        const summary = (await this.redis.call('XPENDING', this.stream, group.name)) as [number, string | null, string | null, unknown];
        if (summary[1]) oldest = summary[1];
      }
      if (keepFrom === undefined || compareStreamIds(oldest, keepFrom) < 0) keepFrom = oldest;
    }
    if (keepFrom === undefined || keepFrom === '0-0') return 0;
    const removed = Number(await this.redis.call('XTRIM', this.stream, 'MINID', keepFrom));
    this.counters.trimmed += removed;
    return removed;
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
        let batch = Date.now() >= this.nextClaimAt && !this.stopping ? await this.claim() : [];
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
        const outcome: Outcome = batch.length > 0 ? await this.process(batch) : 'ok';
        if (outcome === 'failed') {
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
      this.claimCursor = '0-0';
    } catch (error) {
      if (!messageOf(error).startsWith('BUSYGROUP')) throw error;
    }
    this.groupReady = true;
  }

  /** Periodic trimming and consumer clean-up; a failure here never stops consuming. */
  private maintain(): Promise<void> {
    this.maintaining ??= (async () => {
      try {
        await this.trim();
        await this.forgetIdleConsumers();
        this.maintenanceFailing = false;
      } catch (error) {
        if (!this.maintenanceFailing) this.logger.warn(`trimming failed: ${messageOf(error)}`);
        this.maintenanceFailing = true;
      } finally {
        this.maintaining = undefined;
      }
    })();
    return this.maintaining;
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
    return entries.map(([id, flat]) => ({ id, fields: fieldsToRecord(flat), deliveries: 1 }));
  }

  /**
   * Takes over entries idle longer than `claimIdleMs` (a crashed consumer's, or failed
   * ones waiting for their retry) and dead-letters those already delivered too often.
   */
  private async claim(): Promise<Delivery[]> {
    const [next, claimed] = (await this.redis.call(
      'XAUTOCLAIM', this.stream, this.group, this.consumer, this.claimIdleMs, this.claimCursor, 'COUNT', this.batchSize,
    )) as [string, ([string, string[] | null] | null)[]];
    this.claimCursor = next;
    if (next === '0-0') this.nextClaimAt = Date.now() + Math.max(100, Math.floor(this.claimIdleMs / 2));
    const live = claimed.filter((e): e is [string, string[]] => Array.isArray(e) && Array.isArray(e[1]));
    if (live.length === 0) return [];
    this.counters.reclaimed += live.length;
    const counts = await this.deliveryCounts(live.map(([id]) => id));
    const batch: Delivery[] = [];
    for (const [id, flat] of live) {
      const entry: Delivery = { id, fields: fieldsToRecord(flat), deliveries: counts.get(id) ?? 1 };
      if (entry.deliveries > this.maxDeliveries) {
        // Delivered too often without an ack: its consumers kept dying on it.
        const error = this.lastErrors.get(id) ?? `delivered ${entry.deliveries} times without being acknowledged (its consumers stopped or crashed)`;
        await this.deadLetter(entry, error);
      } else {
        batch.push(entry);
      }
    }
    if (batch.length > 0) this.logger.log(`reclaimed ${batch.length} pending entries idle over ${this.claimIdleMs} ms`);
    return batch;
  }

  /** Delivery counts of pending entries, one XPENDING range per id in a single round trip. */
  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.call('XPENDING', this.stream, this.group, id, id, 1);
    const results = (await pipeline.exec()) ?? [];
    const counts = new Map<string, number>();
    results.forEach(([error, rows]) => {
      if (error) return;
      const row = (rows as [string, string, number, number][])[0];
      if (row) counts.set(row[0], Number(row[3]));
    });
    return counts;
  }

  /** Handles a batch; on failure, entry by entry. Acks what succeeded, dead-letters what is out of deliveries. */
  private async process(batch: Delivery[]): Promise<Outcome> {
    const batchError = await this.attempt(batch);
    if (batchError === undefined) {
      await this.ack(batch);
      return 'ok';
    }
    this.counters.failedBatches += 1;
    const done: Delivery[] = [];
    const failed: [Delivery, string][] = [];
    if (batch.length === 1) {
      failed.push([batch[0]!, messageOf(batchError)]);
    } else {
      // Entries that failed before go last, so a few poison entries at the front cannot
      // make the pass look like a general outage every time.
      const ordered = [...batch].sort((a, b) => Number(this.lastErrors.has(a.id)) - Number(this.lastErrors.has(b.id)));
      for (const entry of ordered) {
        if (done.length === 0 && failed.length >= SYSTEMIC_FAILURES) break;
        const error = await this.attempt([entry]);
        if (error === undefined) done.push(entry);
        else failed.push([entry, messageOf(error)]);
      }
    }
    if (done.length > 0) await this.ack(done);
    for (const [entry, error] of failed) this.remember(entry.id, error);

    if (done.length === 0 && failed.length >= SYSTEMIC_FAILURES) {
      // Nothing succeeds, whatever the entry: a dependency is down. Dead-lettering now
      // would throw good entries away; they stay pending and come back after claimIdleMs.
      this.logger.warn(`handler fails for every entry (${messageOf(batchError)}); ${batch.length} entries stay pending for redelivery`);
      return 'failed';
    }
    for (const [entry, error] of failed) {
      if (entry.deliveries >= this.maxDeliveries) await this.deadLetter(entry, error);
      else this.logger.warn(`entry ${entry.id} failed (delivery ${entry.deliveries} of ${this.maxDeliveries}): ${error}`);
    }
    return done.length > 0 ? 'partial' : 'failed';
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
    for (const entry of entries) this.lastErrors.delete(entry.id);
    await this.redis.xack(this.stream, this.group, ...entries.map((e) => e.id));
  }

  /** Moves an entry to the dead-letter stream and acknowledges it, atomically. */
  private async deadLetter(entry: Delivery, error: string): Promise<void> {
    const letter: DeadLetter = {
      stream: this.stream,
      group: this.group,
      id: entry.id,
      fields: entry.fields,
      error,
      deliveries: entry.deliveries,
      consumer: this.consumer,
      at: new Date().toISOString(),
    };
    const results = await this.redis
      .multi()
      .xadd(this.deadLetterStream, '*', ...recordToFields(deadLetterToFields(letter)))
      .xack(this.stream, this.group, entry.id)
      .exec();
    const failure = results?.find(([e]) => e)?.[0];
    if (!results || failure) throw failure ?? new Error('dead-letter transaction aborted');
    this.counters.deadLettered += 1;
    this.lastErrors.delete(entry.id);
    this.logger.warn(`entry ${entry.id} moved to ${this.deadLetterStream} after ${entry.deliveries} deliveries: ${error}`);
    this.onDeadLetter?.(letter);
  }

  private remember(id: string, error: string): void {
    this.lastErrors.delete(id);
    this.lastErrors.set(id, error.slice(0, 2000));
    if (this.lastErrors.size > MAX_REMEMBERED_ERRORS) this.lastErrors.delete(this.lastErrors.keys().next().value!);
  }

  private async groups(): Promise<GroupInfo[]> {
    let reply: unknown[][];
    try {
      reply = (await this.redis.call('XINFO', 'GROUPS', this.stream)) as unknown[][];
    } catch (error) {
      if (/no such key/i.test(messageOf(error))) return [];
      throw error;
    }
    return reply.map((flat) => {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      const lag = info.get('lag');
      return {
        name: String(info.get('name')),
        pending: Number(info.get('pending') ?? 0),
        lastDeliveredId: String(info.get('last-delivered-id') ?? '0-0'),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
  }

  /** Restarted processes leave their consumers behind; drop those with nothing pending. */
  private async forgetIdleConsumers(): Promise<void> {
    const consumers = (await this.redis.call('XINFO', 'CONSUMERS', this.stream, this.group)) as unknown[][];
    for (const flat of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      const name = String(info.get('name'));
      if (name === this.consumer || Number(info.get('pending')) > 0) continue;
      if (Number(info.get('idle')) > this.forgetConsumersAfterMs) {
        await this.redis.call('XGROUP', 'DELCONSUMER', this.stream, this.group, name);
      }
    }
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

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`StreamConsumer: ${name} must be a positive integer (got ${value})`);
  return value;
}
