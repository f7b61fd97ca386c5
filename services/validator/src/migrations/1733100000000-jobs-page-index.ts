import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The admin's list of every team's jobs pages by (queued_at, id), newest first. */
export class JobsPageIndex1733100000000 implements MigrationInterface {
  name = 'JobsPageIndex1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_page_idx ON jobs (queued_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_page_idx`);
  }
}
