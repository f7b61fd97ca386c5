import { OUTBOX_CLAIMS_DOWN_SQL, OUTBOX_CLAIMS_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox relay claims rows with a lease (`claimed_until`) instead of holding their locks while it publishes. */
export class OutboxClaims1733400000000 implements MigrationInterface {
  name = 'OutboxClaims1733400000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of OUTBOX_CLAIMS_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of OUTBOX_CLAIMS_DOWN_SQL) await q.query(sql);
  }
}
