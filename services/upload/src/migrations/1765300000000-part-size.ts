import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The part size each multipart file was signed with: a resume and the completion cut the
 * file on the grid its parts were sent on, whatever `UPLOAD_PART_SIZE_BYTES` says since.
 * Files recorded before have none and fall back to the configured size.
 */
export class PartSize1765300000000 implements MigrationInterface {
  name = 'PartSize1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dataset_files ADD COLUMN part_size_bytes bigint CHECK (part_size_bytes > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dataset_files DROP COLUMN part_size_bytes`);
  }
}
