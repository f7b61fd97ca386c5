import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A voter who votes again replaces their ballot row. With free room on its page the new
 * version stays there and the primary key is not touched (a HOT update); full pages make
 * every replacement an index insert too. Applies to pages written from now on.
 */
export class BallotsFillfactor1733200000000 implements MigrationInterface {
  name = 'BallotsFillfactor1733200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ballots SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ballots RESET (fillfactor)`);
  }
}
