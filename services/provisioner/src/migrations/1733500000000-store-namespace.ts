import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each store records its namespace instead of deriving it from its name: new stores get
 * the installation's prefix (`{prefix}-{name}`), stores created before keep `store-{name}`.
 */
export class StoreNamespace1733500000000 implements MigrationInterface {
  name = 'StoreNamespace1733500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stores ADD COLUMN IF NOT EXISTS namespace text`);
    await q.query(`UPDATE stores SET namespace = 'store-' || name WHERE namespace IS NULL`);
    await q.query(`ALTER TABLE stores ALTER COLUMN namespace SET NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS stores_namespace_key ON stores (namespace)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS stores_namespace_key`);
    await q.query(`ALTER TABLE stores DROP COLUMN IF EXISTS namespace`);
  }
}
