import { OUTBOX_TABLES_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox of the gateway's `audit.*` events (and the processed-events table that comes with it). */
export class IdentityOutbox1733000000000 implements MigrationInterface {
  name = 'IdentityOutbox1733000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of OUTBOX_TABLES_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE processed_events`);
    await q.query(`DROP TABLE outbox`);
  }
}
