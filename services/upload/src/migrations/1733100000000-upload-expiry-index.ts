import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The retention cleanup looks for abandoned uploads: pending datasets past their expiry. */
export class UploadExpiryIndex1733100000000 implements MigrationInterface {
  name = 'UploadExpiryIndex1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX datasets_abandoned_idx ON datasets (upload_expires_at) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX datasets_abandoned_idx`);
  }
}
