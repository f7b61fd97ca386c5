import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a store spec sets beyond version, replicas and rollout (API.md, Stores: `kind: Store`):
 * plain environment variables, the readiness and liveness probes and autoscaling. Kept on the
 * store as its desired state; empty for every store made before.
 */
export class StoreSpec1733800000000 implements MigrationInterface {
  name = 'StoreSpec1733800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS env jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS probes jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS autoscale jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores DROP COLUMN autoscale, DROP COLUMN probes, DROP COLUMN env`);
  }
}
