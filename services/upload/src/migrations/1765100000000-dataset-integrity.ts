import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What makes a verdict stay true: where each file is uploaded (`upload_key`, which only
 * upload URLs name) apart from where it is kept and served (`object_key`), the ETag and
 * part count recorded at completion; the prefixes of deleted or abandoned datasets,
 * swept again while an upload URL could still write under them; and when an abandoned
 * upload was cleared.
 */
export class DatasetIntegrity1765100000000 implements MigrationInterface {
  name = 'DatasetIntegrity1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dataset_files ADD COLUMN upload_key text, ADD COLUMN etag text, ADD COLUMN parts integer`);
    // Files recorded before: uploaded and kept under one key.
    await q.query(`UPDATE dataset_files SET upload_key = object_key`);
    await q.query(`ALTER TABLE dataset_files ALTER COLUMN upload_key SET NOT NULL`);
    await q.query(`ALTER TABLE datasets ADD COLUMN upload_cleared_at timestamptz`);
    await q.query(`
      CREATE TABLE removed_prefixes (
        prefix text PRIMARY KEY,
        sweep_until timestamptz NOT NULL,
        uploads_only boolean NOT NULL,
        next_sweep_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX removed_prefixes_next_idx ON removed_prefixes (next_sweep_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE removed_prefixes`);
    await q.query(`ALTER TABLE datasets DROP COLUMN upload_cleared_at`);
    await q.query(`ALTER TABLE dataset_files DROP COLUMN upload_key, DROP COLUMN etag, DROP COLUMN parts`);
  }
}
