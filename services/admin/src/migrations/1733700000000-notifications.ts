import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notification channels and their deliveries: one delivery per channel and source event
 * (unique, so an event seen twice notifies once), claimed by the deliverer when due.
 */
export class Notifications1733700000000 implements MigrationInterface {
  name = 'Notifications1733700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_channels (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('webhook', 'email')),
        url text,
        secret text,
        recipients text[],
        events text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        created_by uuid,
        CHECK ((kind = 'webhook' AND url IS NOT NULL AND secret IS NOT NULL) OR (kind = 'email' AND recipients IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY,
        channel_id uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
        event text NOT NULL,
        source_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        summary text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        last_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        sent_at timestamptz,
        UNIQUE (channel_id, source_id)
      )`);
    await q.query(`CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_deliveries`);
    await q.query(`DROP TABLE notification_channels`);
  }
}
