import type { Logger } from '@nestjs/common';
import { acceptCorrelationId, runWithContext } from '@flotilla/observability';
import { isDependencyUnavailable } from '../rabbit/dependency-errors.js';
import { backoffMs, countedDeliveries, messageOf, type Delivery, type StreamBatchHandler } from './stream-consumer-options.js';
import type { DeadLetters } from './stream-dead-letters.js';
import type { PendingEntries } from './stream-pending.js';
import { streamBatchSpan } from '../trace-context.js';

/**
 * What handling a batch came to. `outage`: a dependency is unreachable; `held` are the
 * entries not handled because of it, to retry once it is back.
 */
export type BatchResult = { outcome: 'ok' | 'partial' | 'failed' } | { outcome: 'outage'; held: Delivery[]; error: string };

/** Single retries that all fail before any succeeds: the fault is not in the entries. */
const SYSTEMIC_FAILURES = 3;

export interface BatchSettings {
  /** The stream, for the span each handled batch is (see {@link streamBatchSpan}). */
  stream: string;
  handler: StreamBatchHandler;
  maxDeliveries: number;
  claimIdleMs: number;
}

/** How the consumer's loop lets a long wait end early. */
export interface BatchControl {
  stopping(): boolean;
  /** Waits `ms`, or less when the consumer stops. */
  pause(ms: number): Promise<void>;
}

/**
 * Runs the handler on a consumer's batches and decides what becomes of their entries:
 * acknowledged once handled; a failing batch retried entry by entry, so one poison entry
 * cannot hold up the others; an entry out of deliveries dead-lettered; and a failure
 * because a dependency is unreachable waited out, not counted as a delivery.
 */
export class BatchHandling {
  processed = 0;
  failedBatches = 0;
  outageFailures = 0;

  constructor(
    private readonly settings: BatchSettings,
    private readonly pending: PendingEntries,
    private readonly deadLetters: DeadLetters,
    private readonly control: BatchControl,
    private readonly logger: Logger,
  ) {}

  /** Handles a batch; on failure, entry by entry. Acks what succeeded, dead-letters what is out of deliveries. */
  async process(batch: Delivery[]): Promise<BatchResult> {
    const batchError = await this.attempt(batch);
    if (batchError === undefined) {
      await this.ack(batch);
      return { outcome: 'ok' };
    }
    this.failedBatches += 1;
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
    // A delivery that first waited out an outage and then failed on its own counts.
    await this.pending.unrecordOutage(failed.map(([entry]) => entry)).catch((e: unknown) => this.logger.debug(`outage record not taken back: ${messageOf(e)}`));

    if (held.length === 0 && done.length === 0 && failed.length >= SYSTEMIC_FAILURES) {
      // Nothing succeeds, whatever the entry, though no dependency says it is down: the
      // entries stay pending and come back after claimIdleMs, each delivery counted.
      this.logger.warn(`handler fails for every entry (${messageOf(batchError)}); ${batch.length} entries stay pending for redelivery`);
      return { outcome: 'failed' };
    }
    for (const [entry, error] of failed) {
      const counted = countedDeliveries(entry);
      if (counted >= this.settings.maxDeliveries) await this.deadLetters.move(entry, error);
      else this.logger.warn(`entry ${entry.id} failed (delivery ${counted} of ${this.settings.maxDeliveries}): ${error}`);
    }
    if (held.length > 0) return this.outage(held, outageError);
    return { outcome: done.length > 0 ? 'partial' : 'failed' };
  }

  /** Records the delivery of `held` as failed for an outage (not counted), and says to wait it out. */
  private async outage(held: Delivery[], error: unknown): Promise<BatchResult> {
    this.outageFailures += 1;
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
  async waitOut(held: Delivery[], alsoOwned: Delivery[], error: string): Promise<void> {
    const since = Date.now();
    this.logger.warn(`a dependency is unreachable (${error}); ${held.length} entries held and retried until it is back, not counted as deliveries`);
    let owned = new Set([...held, ...alsoOwned].map((e) => e.id));
    const keep = (): void => {
      this.pending.keep([...owned]).then(
        (ids) => (owned = new Set(ids)),
        (e: unknown) => this.logger.debug(`held entries not kept: ${messageOf(e)}`),
      );
    };
    const keeper = setInterval(keep, Math.max(50, Math.floor(this.settings.claimIdleMs / 3)));
    try {
      for (let attempt = 1; !this.control.stopping(); attempt++) {
        await this.control.pause(backoffMs(attempt));
        // An entry another consumer took over (this one was too slow to keep it) is theirs now.
        held = held.filter((e) => owned.has(e.id));
        if (this.control.stopping() || held.length === 0) return;
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
      await runWithContext({ correlationId }, () =>
        streamBatchSpan(this.settings.stream, entries, () => this.settings.handler(entries.map(({ id, fields }) => ({ id, fields })))),
      );
      return undefined;
    } catch (error) {
      return error ?? new Error('handler failed without an error');
    }
  }

  /** XACK after the handler committed. A failed ack throws: the entries are redelivered, and the handler is idempotent. */
  private async ack(entries: Delivery[]): Promise<void> {
    this.processed += entries.length;
    for (const entry of entries) this.deadLetters.forget(entry.id);
    await this.pending.ack(entries);
  }
}
