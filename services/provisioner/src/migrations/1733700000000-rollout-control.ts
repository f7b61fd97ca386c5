import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollouts that can be steered: where the running rollout stands (written by it, shown as
 * `Store.rollout`), whether someone paused it, and the one command it has not taken yet
 * (`promote`, `promote_full`, `abort`) — columns of the store, since one rollout at most
 * runs per store and the store's lock holder is the one reading them.
 */
export class RolloutControl1733700000000 implements MigrationInterface {
  name = 'RolloutControl1733700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS rollout_state jsonb`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS rollout_paused boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS rollout_command text CHECK (rollout_command IN ('promote', 'promote_full', 'abort'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores DROP COLUMN rollout_command, DROP COLUMN rollout_paused, DROP COLUMN rollout_state`);
  }
}
