import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Store health, apart from the status: `health` (`up`/`down`, null until first checked),
 * what blocks the store, since when, when it was last checked, the failing checks in a
 * row (the grace before `down`), and the timeline of transitions.
 */
export class StoreHealth1733600000000 implements MigrationInterface {
  name = 'StoreHealth1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS health text CHECK (health IN ('up', 'down'))`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS health_reason text`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS health_since timestamptz`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS health_checked_at timestamptz`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS health_failures integer NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS store_health (
        id bigserial PRIMARY KEY,
        store_id uuid NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('up', 'down')),
        reason text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS store_health_store_idx ON store_health (store_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS store_health`);
    for (const c of ['health_failures', 'health_checked_at', 'health_since', 'health_reason', 'health']) await q.query(`ALTER TABLE stores DROP COLUMN IF EXISTS ${c}`);
  }
}
