import { LRUCache } from 'lru-cache';
import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { countedDeliveries, type Delivery } from './stream-consumer-options.js';
import { deadLetterToFields, recordToFields, type DeadLetter } from './stream-entry.js';

const MAX_REMEMBERED_ERRORS = 10_000;
/** An entry's last error is forgotten after this (its dead letter then says how often it was delivered). */
const REMEMBER_ERROR_MS = 24 * 60 * 60_000;

export interface DeadLetterSettings {
  stream: string;
  group: string;
  consumer: string;
  deadLetterStream: string;
  /** The outage ledger (see `PendingEntries`), cleared with the entry. */
  ledger: string;
  onDeadLetter?: (letter: DeadLetter) => void;
}

/**
 * Moves entries out of deliveries to the dead-letter stream, with the last error they
 * failed with here; remembers those errors (a bounded number) meanwhile.
 */
export class DeadLetters {
  /** Last error of entries that failed here, for the dead letter of a later delivery. */
  private readonly lastErrors = new LRUCache<string, string>({ max: MAX_REMEMBERED_ERRORS, ttl: REMEMBER_ERROR_MS });
  count = 0;

  constructor(
    private readonly redis: Redis,
    private readonly settings: DeadLetterSettings,
    private readonly logger: Logger,
  ) {}

  /** Whether the entry failed here before. */
  failedBefore(id: string): boolean {
    return this.lastErrors.has(id);
  }

  remember(id: string, error: string): void {
    this.lastErrors.set(id, error.slice(0, 2000));
  }

  forget(id: string): void {
    this.lastErrors.delete(id);
  }

  /** Dead-letters an entry that was delivered too often without an ack: its consumers kept dying on it. */
  exhausted(entry: Delivery): Promise<void> {
    const counted = countedDeliveries(entry);
    return this.move(entry, this.lastErrors.get(entry.id) ?? `delivered ${counted} times without being acknowledged (its consumers stopped or crashed)`);
  }

  /** Moves an entry to the dead-letter stream and acknowledges it, atomically. */
  async move(entry: Delivery, error: string): Promise<void> {
    const { stream, group, consumer, deadLetterStream, ledger } = this.settings;
    const letter: DeadLetter = {
      stream,
      group,
      id: entry.id,
      fields: entry.fields,
      error,
      deliveries: countedDeliveries(entry),
      consumer,
      at: new Date().toISOString(),
    };
    const results = await this.redis
      .multi()
      .xadd(deadLetterStream, '*', ...recordToFields(deadLetterToFields(letter)))
      .xack(stream, group, entry.id)
      .hdel(ledger, entry.id)
      .exec();
    const failure = results?.find(([e]) => e)?.[0];
    if (!results || failure) throw failure ?? new Error('dead-letter transaction aborted');
    this.count += 1;
    this.lastErrors.delete(entry.id);
    this.logger.warn(`entry ${entry.id} moved to ${deadLetterStream} after ${letter.deliveries} deliveries: ${error}`);
    this.settings.onDeadLetter?.(letter);
  }
}
