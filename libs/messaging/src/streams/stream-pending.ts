import type { Redis } from 'ioredis';
import { countedDeliveries, type Delivery } from './stream-consumer-options.js';
import { fieldsToRecord } from './stream-entry.js';

/**
 * Re-takes ARGV[3..] for the consumer ARGV[2] of group ARGV[1] on stream KEYS[1], only
 * those it still owns, resetting their idle time (XCLAIM JUSTID does not count a
 * delivery). Answers the ids still owned. Atomic, so an entry another consumer took over
 * meanwhile is never taken back.
 */
const KEEP = `
local kept = {}
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if row and row[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept[#kept + 1] = ARGV[i]
  end
end
return kept
`;

type Keep = (stream: string, group: string, consumer: string, ...ids: string[]) => Promise<string[]>;

export interface PendingSettings {
  stream: string;
  group: string;
  consumer: string;
  batchSize: number;
  claimIdleMs: number;
  maxDeliveries: number;
}

/** What a claim took over: entries to handle, and entries out of deliveries, to dead-letter. */
export interface Claimed {
  batch: Delivery[];
  exhausted: Delivery[];
}

/**
 * The group's pending entries as one consumer sees them: taking over idle ones
 * (XAUTOCLAIM), acknowledging, and the outage ledger. Redis counts a delivery on every
 * read and claim; deliveries that failed because a dependency was unreachable are
 * recorded in a hash (`<stream>:outages:<group>`, entry id → such deliveries), shared by
 * every consumer of the group and surviving restarts, and subtracted before an entry is
 * judged out of deliveries. A field lives as long as its entry is pending: it goes in the
 * same transaction as the ack or the dead letter.
 */
export class PendingEntries {
  readonly ledger: string;
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  private readonly keepScript: Keep;

  constructor(
    private readonly redis: Redis,
    private readonly settings: PendingSettings,
  ) {
    this.ledger = `${settings.stream}:outages:${settings.group}`;
    redis.defineCommand('flotillaStreamKeep', { numberOfKeys: 1, lua: KEEP });
    this.keepScript = (redis as unknown as { flotillaStreamKeep: Keep }).flotillaStreamKeep.bind(redis);
  }

  /** Whether it is time to look for idle entries again. */
  get claimDue(): boolean {
    return Date.now() >= this.nextClaimAt;
  }

  /** After the group was (re)created, claiming starts over from the beginning. */
  restart(): void {
    this.claimCursor = '0-0';
  }

  /**
   * Takes over entries idle longer than `claimIdleMs` (a crashed consumer's, or failed
   * ones waiting for their retry); those delivered more than `maxDeliveries` times,
   * outage failures not counted, are set apart for the dead-letter stream.
   */
  async claim(): Promise<Claimed> {
    const { stream, group, consumer, claimIdleMs, batchSize, maxDeliveries } = this.settings;
    const [next, claimed] = (await this.redis.call(
      'XAUTOCLAIM', stream, group, consumer, claimIdleMs, this.claimCursor, 'COUNT', batchSize,
    )) as [string, ([string, string[] | null] | null)[]];
    this.claimCursor = next;
    if (next === '0-0') this.nextClaimAt = Date.now() + Math.max(100, Math.floor(claimIdleMs / 2));
    const live = claimed.filter((e): e is [string, string[]] => Array.isArray(e) && Array.isArray(e[1]));
    if (live.length === 0) return { batch: [], exhausted: [] };
    const { counts, outages } = await this.deliveryCounts(live.map(([id]) => id));
    const result: Claimed = { batch: [], exhausted: [] };
    for (const [id, flat] of live) {
      const entry: Delivery = { id, fields: fieldsToRecord(flat), deliveries: counts.get(id) ?? 1, outages: outages.get(id) ?? 0 };
      (countedDeliveries(entry) > maxDeliveries ? result.exhausted : result.batch).push(entry);
    }
    return result;
  }

  /** Records, once per delivery, that these entries failed because a dependency was unreachable. */
  async recordOutage(entries: Delivery[]): Promise<void> {
    const fresh = entries.filter((e) => !e.outageRecorded);
    if (fresh.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const entry of fresh) pipeline.hincrby(this.ledger, entry.id, 1);
    const results = (await pipeline.exec()) ?? [];
    fresh.forEach((entry, i) => {
      const [error, value] = results[i] ?? [new Error('no reply')];
      if (error) return;
      entry.outages = Number(value);
      entry.outageRecorded = true;
    });
  }

  /**
   * Takes back the outage record of this delivery for entries that, the dependency back,
   * then failed for another reason: the delivery counts after all.
   */
  async unrecordOutage(entries: Delivery[]): Promise<void> {
    const recorded = entries.filter((e) => e.outageRecorded);
    if (recorded.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const entry of recorded) pipeline.hincrby(this.ledger, entry.id, -1);
    const results = (await pipeline.exec()) ?? [];
    const cleared: string[] = [];
    recorded.forEach((entry, i) => {
      const [error, value] = results[i] ?? [new Error('no reply')];
      if (error) return;
      entry.outages = Number(value);
      entry.outageRecorded = false;
      if (entry.outages <= 0) cleared.push(entry.id);
    });
    if (cleared.length > 0) await this.redis.hdel(this.ledger, ...cleared);
  }

  /**
   * Resets the idle time of entries this consumer holds through an outage, so no other
   * consumer takes them over while it is alive; resolves with the ids it still owns.
   */
  keep(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.keepScript(this.settings.stream, this.settings.group, this.settings.consumer, ...ids);
  }

  /** XACK, with the entries' outage records when they have any. */
  async ack(entries: Delivery[]): Promise<void> {
    const { stream, group } = this.settings;
    const ids = entries.map((e) => e.id);
    const recorded = entries.filter((e) => e.outages > 0).map((e) => e.id);
    if (recorded.length === 0) {
      await this.redis.xack(stream, group, ...ids);
      return;
    }
    const results = await this.redis.multi().xack(stream, group, ...ids).hdel(this.ledger, ...recorded).exec();
    const failure = results?.find(([e]) => e)?.[0];
    if (!results || failure) throw failure ?? new Error('ack transaction aborted');
  }

  /** Delivery counts (XPENDING, one range per id) and outage records of pending entries, in one round trip. */
  private async deliveryCounts(ids: string[]): Promise<{ counts: Map<string, number>; outages: Map<string, number> }> {
    const { stream, group } = this.settings;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.call('XPENDING', stream, group, id, id, 1);
    pipeline.hmget(this.ledger, ...ids);
    const results = (await pipeline.exec()) ?? [];
    const counts = new Map<string, number>();
    results.slice(0, ids.length).forEach(([error, rows]) => {
      if (error) return;
      const row = (rows as [string, string, number, number][])[0];
      if (row) counts.set(row[0], Number(row[3]));
    });
    const outages = new Map<string, number>();
    const [ledgerError, recorded] = results[ids.length] ?? [new Error('no reply')];
    if (ledgerError) throw ledgerError;
    (recorded as (string | null)[]).forEach((value, i) => {
      if (value !== null) outages.set(ids[i]!, Number(value));
    });
    return { counts, outages };
  }
}
