import { OUTBOX_TABLES_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `provisioner` schema: each store's desired state and what was last observed,
 * its revisions (each version or replica change the user asked for), its event log,
 * and the outbox of `store.*` events. `stable_revision` is the last revision that was
 * ready: the one a failed rollout returns to.
 */
export class Provisioner1732700000000 implements MigrationInterface {
  name = 'Provisioner1732700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stores (
        id uuid PRIMARY KEY,
        team_id uuid NOT NULL,
        created_by uuid NOT NULL,
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]*[a-z0-9]$' AND length(name) BETWEEN 2 AND 40),
        template text NOT NULL CHECK (template IN ('wordpress', 'medusa')),
        status text NOT NULL CHECK (status IN ('provisioning', 'ready', 'updating', 'degraded', 'failed', 'deleting')),
        error text,
        revision integer NOT NULL,
        stable_revision integer,
        version text NOT NULL,
        replicas integer NOT NULL CHECK (replicas BETWEEN 1 AND 20),
        rollout jsonb NOT NULL,
        observed_ready integer NOT NULL DEFAULT 0,
        observed_revision integer,
        secrets text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        ready_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX stores_team_idx ON stores (team_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE revisions (
        store_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
        revision integer NOT NULL,
        version text NOT NULL,
        replicas integer NOT NULL,
        rollout jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'rolling', 'ready', 'failed', 'rolled_back')),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz,
        PRIMARY KEY (store_id, revision)
      )`);
    await q.query(`
      CREATE TABLE store_events (
        id bigserial PRIMARY KEY,
        store_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        type text NOT NULL,
        message text NOT NULL
      )`);
    await q.query(`CREATE INDEX store_events_store_idx ON store_events (store_id, id)`);
    for (const sql of OUTBOX_TABLES_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['processed_events', 'outbox', 'store_events', 'revisions', 'stores']) await q.query(`DROP TABLE ${table}`);
  }
}
