import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Team quotas: an administrator's overrides (a null column falls back to the configured
 * default), and the reservations `upload/start` takes under the team's lock so that
 * concurrent starts count each other before their datasets are recorded (a trigger drops
 * a reservation when its dataset row is inserted).
 */
export class TeamQuotas1765200000000 implements MigrationInterface {
  name = 'TeamQuotas1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE team_quotas (
        team_id uuid PRIMARY KEY,
        max_stored_bytes bigint CHECK (max_stored_bytes >= 0),
        max_dataset_bytes bigint CHECK (max_dataset_bytes >= 0),
        max_files_per_dataset integer CHECK (max_files_per_dataset >= 1),
        max_concurrent_uploads integer CHECK (max_concurrent_uploads >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE quota_reservations (
        dataset_id uuid PRIMARY KEY,
        team_id uuid NOT NULL,
        bytes bigint NOT NULL CHECK (bytes >= 0),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX quota_reservations_team_idx ON quota_reservations (team_id)`);
    // Once its dataset is recorded, the dataset counts itself: the reservation goes in the
    // same transaction, so a dataset deleted later is not counted again through it.
    await q.query(`
      CREATE FUNCTION quota_reservation_settled() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Named in the trigger's own schema: writers of datasets may run with another search_path.
        EXECUTE format('DELETE FROM %I.quota_reservations WHERE dataset_id = $1', TG_TABLE_SCHEMA) USING NEW.id;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER datasets_settle_quota_reservation AFTER INSERT ON datasets FOR EACH ROW EXECUTE FUNCTION quota_reservation_settled()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER datasets_settle_quota_reservation ON datasets`);
    await q.query(`DROP FUNCTION quota_reservation_settled()`);
    await q.query(`DROP TABLE quota_reservations`);
    await q.query(`DROP TABLE team_quotas`);
  }
}
