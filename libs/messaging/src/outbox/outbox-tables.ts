import type { EventEnvelope } from '@flotilla/contracts';

/** Anything that runs SQL: a TypeORM `EntityManager` inside a transaction, a `QueryRunner` or a `DataSource`. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * The tables a service needs for the outbox and for idempotent consumers; run them in
 * one of the service's migrations, then {@link OUTBOX_CLAIMS_SQL} in a later one.
 * `outbox.seq` is the order rows were written in.
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
 * The relay's claims (a migration after {@link OUTBOX_TABLES_SQL}): a row being
 * published carries the time its claim runs out, so the relay holds no row lock while
 * it talks to the broker, and a relay that died gives its rows up when the claim ends.
 */
export const OUTBOX_CLAIMS_SQL: readonly string[] = [`ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until timestamptz`];

/** Undoes {@link OUTBOX_CLAIMS_SQL}. */
export const OUTBOX_CLAIMS_DOWN_SQL: readonly string[] = [`ALTER TABLE outbox DROP COLUMN IF EXISTS claimed_until`];

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
