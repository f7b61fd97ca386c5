import { OUTBOX_TABLES_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `validation` schema: one row per job with its progress, the issues it found,
 * datasets deleted meanwhile (so a late or redelivered event does not revive them),
 * and the outbox of `validation.*` events. `version` moves on every change: it is the
 * status's ETag. A running job's `lease_until` is renewed by the instance running it;
 * a redelivered event waits for the lease to lapse before it takes the job over.
 */
export class Validation1732600000000 implements MigrationInterface {
  name = 'Validation1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        dataset_id uuid NOT NULL,
        team_id uuid NOT NULL,
        profile text NOT NULL,
        options jsonb NOT NULL,
        files jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error')),
        files_total integer NOT NULL,
        files_checked integer NOT NULL DEFAULT 0,
        bytes_total bigint NOT NULL,
        bytes_checked bigint NOT NULL DEFAULT 0,
        errors integer NOT NULL DEFAULT 0,
        warnings integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        lease_until timestamptz,
        last_error text,
        report_key text,
        file_results jsonb,
        version integer NOT NULL DEFAULT 1,
        queued_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX jobs_dataset_idx ON jobs (dataset_id, queued_at DESC)`);
    await q.query(`CREATE INDEX jobs_status_idx ON jobs (status, queued_at DESC)`);
    await q.query(`
      CREATE TABLE issues (
        job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        severity text NOT NULL CHECK (severity IN ('error', 'warning')),
        code text NOT NULL,
        file text,
        path text,
        message text NOT NULL,
        PRIMARY KEY (job_id, seq)
      )`);
    await q.query(`
      CREATE TABLE deleted_datasets (
        dataset_id uuid PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    for (const sql of OUTBOX_TABLES_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['processed_events', 'outbox', 'deleted_datasets', 'issues', 'jobs']) await q.query(`DROP TABLE ${table}`);
  }
}
