import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { DeadLetter, StreamEntry } from './stream-entry.js';

/**
 * Handles a batch of entries. Resolve only once their effects are durable (committed):
 * the entries are acknowledged right after, and never before. Throwing leaves them
 * pending, to be delivered again; throwing an error that says a dependency is unreachable
 * (see `isDependencyUnavailable`) holds them until it is back, without using up deliveries.
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
   * exceed the longest handler call, or a slow batch is handled twice. Entries held
   * through an outage are kept from being taken over while their consumer lives. Default 30000.
   */
  claimIdleMs?: number;
  /**
   * Deliveries an entry gets; one that still fails is moved to the dead-letter stream
   * with its error and acknowledged. A delivery that failed because a dependency was
   * unreachable does not count, however long the outage. Default 5.
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
  /** Handler calls that failed because a dependency was unreachable (not counted as deliveries). */
  outageFailures: number;
}

/** How far the group is behind: entries not yet delivered, and delivered but not acknowledged. */
export interface StreamLag {
  lag: number;
  pending: number;
}

/** An entry as this consumer holds it. */
export interface Delivery extends StreamEntry {
  /** Times Redis has delivered the entry, this delivery included. */
  deliveries: number;
  /** Of those, deliveries that failed because a dependency was unreachable: they do not count. */
  outages: number;
  /** Whether this delivery's outage failure is already recorded (once per delivery, however many retries). */
  outageRecorded?: boolean;
}

/** Deliveries that count against `maxDeliveries`: those not lost to an outage. */
export const countedDeliveries = (entry: Delivery): number => entry.deliveries - entry.outages;

/** `<hostname>-<pid>`: unique per process, so a restarted process never inherits a dead one's entries by name. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** 100 ms doubling to 5 s. */
export function backoffMs(failures: number): number {
  return Math.min(100 * 2 ** Math.max(0, failures - 1), 5000);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`StreamConsumer: ${name} must be a positive integer (got ${value})`);
  return value;
}
