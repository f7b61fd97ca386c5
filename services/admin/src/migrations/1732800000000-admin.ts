import { OUTBOX_TABLES_SQL } from '@flotilla/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `admin` schema: the request log (one row per gateway request, keyed by its stream
 * id so a redelivered batch inserts nothing twice), the audit log (keyed by event id),
 * dead letters collected from every queue and dead-letter stream, cleanup runs, and
 * the service instances seen through their heartbeats with their up/down transitions.
 */
export class Admin1732800000000 implements MigrationInterface {
  name = 'Admin1732800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE requests (
        id text PRIMARY KEY,
        at timestamptz NOT NULL,
        method text NOT NULL,
        route text NOT NULL,
        path text NOT NULL,
        status integer NOT NULL,
        duration_ms double precision NOT NULL,
        user_id uuid,
        ip text NOT NULL,
        correlation_id text NOT NULL,
        user_agent text NOT NULL,
        request_bytes bigint NOT NULL,
        response_bytes bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX requests_at_idx ON requests (at DESC, id DESC)`);
    await q.query(`CREATE INDEX requests_status_idx ON requests (status, at DESC)`);
    await q.query(`CREATE INDEX requests_user_idx ON requests (user_id, at DESC)`);
    await q.query(`
      CREATE TABLE audit (
        id uuid PRIMARY KEY,
        at timestamptz NOT NULL,
        source text NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        actor_id uuid,
        actor_email text,
        ip text,
        target text,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX audit_at_idx ON audit (at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_action_idx ON audit (action, at DESC)`);
    await q.query(`
      CREATE TABLE dead_letters (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('queue', 'stream')),
        source text NOT NULL,
        origin_id text NOT NULL,
        type text,
        error text NOT NULL,
        failed_at timestamptz NOT NULL,
        attempts integer NOT NULL,
        payload jsonb,
        raw text NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replayed', 'discarded')),
        handled_at timestamptz,
        handled_by uuid,
        UNIQUE (kind, source, origin_id)
      )`);
    await q.query(`CREATE INDEX dead_letters_failed_idx ON dead_letters (failed_at DESC)`);
    await q.query(`
      CREATE TABLE cleanup_runs (
        id uuid PRIMARY KEY,
        trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        actor_id uuid,
        retention_days integer NOT NULL,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        datasets_deleted integer NOT NULL DEFAULT 0,
        objects_deleted integer NOT NULL DEFAULT 0,
        bytes_freed bigint NOT NULL DEFAULT 0,
        error text
      )`);
    await q.query(`
      CREATE TABLE service_instances (
        instance_id text PRIMARY KEY,
        service text NOT NULL,
        version text NOT NULL,
        started_at timestamptz NOT NULL,
        ready boolean NOT NULL,
        last_heartbeat_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('up', 'down'))
      )`);
    await q.query(`
      CREATE TABLE service_transitions (
        id bigserial PRIMARY KEY,
        instance_id text NOT NULL REFERENCES service_instances (instance_id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        status text NOT NULL CHECK (status IN ('up', 'down'))
      )`);
    for (const sql of OUTBOX_TABLES_SQL) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['processed_events', 'outbox', 'service_transitions', 'service_instances', 'cleanup_runs', 'dead_letters', 'audit', 'requests']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
