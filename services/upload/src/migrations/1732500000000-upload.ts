import { OUTBOX_TABLES_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `upload` schema: datasets of a team, their files (with the content address the
 * validator computed), and the outbox of `dataset.*` events.
 */
export class Upload1732500000000 implements MigrationInterface {
  name = 'Upload1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE datasets (
        id uuid PRIMARY KEY,
        team_id uuid NOT NULL,
        created_by uuid NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        description text,
        profile text NOT NULL CHECK (profile IN ('xray', 'teams-json')),
        options jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'passed', 'failed', 'error')),
        file_count integer NOT NULL CHECK (file_count >= 0),
        total_bytes bigint NOT NULL CHECK (total_bytes >= 0),
        job_id uuid UNIQUE,
        queued_at timestamptz,
        upload_expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX datasets_team_page_idx ON datasets (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX datasets_page_idx ON datasets (created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE dataset_files (
        id uuid PRIMARY KEY,
        dataset_id uuid NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        position integer NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        declared_sha256 text,
        sha256 text,
        md5 text,
        object_key text NOT NULL,
        multipart_upload_id text,
        status text NOT NULL CHECK (status IN ('pending', 'uploaded')),
        UNIQUE (dataset_id, filename),
        UNIQUE (dataset_id, position)
      )`);
    await q.query(`CREATE INDEX dataset_files_sha256_idx ON dataset_files (sha256) WHERE sha256 IS NOT NULL`);
    for (const sql of OUTBOX_TABLES_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE processed_events`);
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE dataset_files`);
    await q.query(`DROP TABLE datasets`);
  }
}
