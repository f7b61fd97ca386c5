import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `votes` schema. Tallies are kept per option and moved by the consumer in the same
 * transaction as the ballots, so results are one cheap read; the CHECK on `count` turns
 * any counting bug into a failed batch instead of a silently wrong result.
 */
export class Votes1732400000000 implements MigrationInterface {
  name = 'Votes1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE polls (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        question text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      )`);
    await q.query(`CREATE INDEX polls_created_idx ON polls (created_at, id)`);
    await q.query(`
      CREATE TABLE poll_options (
        poll_id text NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
        option text NOT NULL CHECK (length(option) BETWEEN 1 AND 100),
        position smallint NOT NULL CHECK (position >= 0),
        PRIMARY KEY (poll_id, option),
        UNIQUE (poll_id, position)
      )`);
    await q.query(`
      CREATE TABLE tallies (
        poll_id text NOT NULL,
        option text NOT NULL,
        count bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
        updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        PRIMARY KEY (poll_id, option),
        FOREIGN KEY (poll_id, option) REFERENCES poll_options (poll_id, option) ON DELETE CASCADE
      )`);
    // One current vote per voter and poll; stream_id orders votes (compared as ms, then seq).
    // No foreign keys here: the writer checks poll and option against the database in the
    // same transaction, and row-by-row FK checks cost a third of the ballot upsert.
    await q.query(`
      CREATE TABLE ballots (
        poll_id text NOT NULL,
        voter_id text NOT NULL,
        option text NOT NULL,
        stream_id text NOT NULL,
        vote_id uuid,
        voted_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (poll_id, voter_id)
      )`);
    // The audit of every accepted vote, valid or not, keyed by its stream id so redelivered
    // entries are no-ops. No foreign keys: an entry naming an unknown poll is kept too, with
    // the reason it was not counted. Only the key is indexed, to keep the write path lean;
    // an index for audit queries by voter can be added concurrently when one needs it.
    await q.query(`
      CREATE TABLE vote_events (
        stream_id text PRIMARY KEY,
        vote_id uuid,
        poll_id text,
        option text,
        voter_id text,
        ip text,
        user_agent text,
        request_id text,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        rejected_reason text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vote_events`);
    await q.query(`DROP TABLE ballots`);
    await q.query(`DROP TABLE tallies`);
    await q.query(`DROP TABLE poll_options`);
    await q.query(`DROP TABLE polls`);
  }
}
