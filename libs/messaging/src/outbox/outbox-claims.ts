import type { EventEnvelope } from '@flotilla/contracts';
import type { SqlRunner } from './outbox-tables.js';
import { OUTBOX_TRACE_KEY } from '../trace-context.js';

export interface ClaimedRow {
  seq: string;
  /** The envelope as published, without the trace context stored beside it. */
  envelope: EventEnvelope;
  /** The trace context of the work that added the event (`traceparent`, `tracestate`), if it was traced. */
  trace: Record<string, string> | null;
}

/**
 * Claims up to `limit` unpublished rows nobody holds a live claim on, for `leaseMs`,
 * and returns them in `seq` order. One statement, so its row locks (`FOR UPDATE SKIP
 * LOCKED`, which keeps two relays from claiming one row) last only while it runs.
 */
export async function claimRows(db: SqlRunner, limit: number, leaseMs: number): Promise<ClaimedRow[]> {
  const rows = (await db.query(
    `UPDATE outbox SET claimed_until = clock_timestamp() + make_interval(secs => $2::double precision / 1000), attempts = attempts + 1
     WHERE seq IN (
       SELECT seq FROM outbox
       WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
       ORDER BY seq LIMIT $1
       FOR UPDATE SKIP LOCKED)
     RETURNING seq, envelope - $3::text AS envelope, envelope -> $3::text AS trace`,
    [limit, leaseMs, OUTBOX_TRACE_KEY],
  )) as [ClaimedRow[], number] | ClaimedRow[];
  // TypeORM answers an UPDATE ... RETURNING with [rows, count].
  const claimed = (Array.isArray(rows[0]) ? rows[0] : rows) as ClaimedRow[];
  return claimed.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
}

/** Marks rows the broker confirmed as published (kept a while for inspection, then pruned). */
export async function markPublished(db: SqlRunner, seqs: string[]): Promise<void> {
  await db.query(`UPDATE outbox SET published_at = clock_timestamp(), claimed_until = NULL, last_error = NULL WHERE seq = ANY($1::bigint[])`, [seqs]);
}

/** Gives up the claim on rows that could not be published, with the error, for the next round. */
export async function releaseClaims(db: SqlRunner, seqs: string[], error: string): Promise<void> {
  await db.query(`UPDATE outbox SET claimed_until = NULL, last_error = $2 WHERE seq = ANY($1::bigint[]) AND published_at IS NULL`, [seqs, error]);
}

/** Rows not yet confirmed by the broker. */
export async function countPending(db: SqlRunner): Promise<number> {
  const [{ pending }] = (await db.query(`SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL`)) as { pending: number }[];
  return pending;
}
