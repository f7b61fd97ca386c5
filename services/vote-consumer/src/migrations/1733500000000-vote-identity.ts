import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Stream ids ordered as Redis orders them: time, then sequence, numerically. */
const STREAM_ORDER_DESC = `split_part(e.stream_id, '-', 1)::numeric DESC, split_part(e.stream_id, '-', 2)::numeric DESC`;

/**
 * A vote is its `vote_id`, and its place in its voter's order is the gateway's
 * acceptance time, no longer its stream id: a dead letter replayed by the admin comes
 * back under a new stream id, and was audited twice and could replace a newer ballot.
 * - `vote_events` is keyed by `vote_id` (rows without one, not written by the gateway,
 *   get one derived from their stream id, as the writer does); of a vote audited more
 *   than once, the first recorded row stays;
 * - every ballot becomes its voter's last counted vote in acceptance order (`at`, then
 *   stream id), and every tally the count of its ballots.
 * The one unique index stays the only one, so writing a vote costs what it did.
 */
export class VoteIdentity1733500000000 implements MigrationInterface {
  name = 'VoteIdentity1733500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE vote_events SET vote_id = md5('stream-id:' || stream_id)::uuid WHERE vote_id IS NULL`);
    await q.query(`
      DELETE FROM vote_events WHERE ctid IN (
        SELECT ctid FROM (
          SELECT ctid, row_number() OVER (PARTITION BY vote_id ORDER BY recorded_at, stream_id) AS n FROM vote_events
        ) AS copies WHERE n > 1
      )`);
    await q.query(`ALTER TABLE vote_events DROP CONSTRAINT vote_events_pkey, ALTER COLUMN vote_id SET NOT NULL, ADD PRIMARY KEY (vote_id)`);

    await q.query(`UPDATE ballots SET vote_id = md5('stream-id:' || stream_id)::uuid WHERE vote_id IS NULL`);
    await q.query(`
      WITH last AS (
        SELECT DISTINCT ON (e.poll_id, e.voter_id) e.poll_id, e.voter_id, e.option, e.stream_id, e.vote_id, e.at
        FROM vote_events e JOIN poll_options o ON o.poll_id = e.poll_id AND o.option = e.option
        WHERE e.rejected_reason IS NULL
        ORDER BY e.poll_id, e.voter_id, e.at DESC, ${STREAM_ORDER_DESC}
      )
      UPDATE ballots b
      SET option = l.option, stream_id = l.stream_id, vote_id = l.vote_id, voted_at = l.at, updated_at = clock_timestamp()
      FROM last l
      WHERE l.poll_id = b.poll_id AND l.voter_id = b.voter_id AND l.vote_id <> b.vote_id`);
    await q.query(`
      UPDATE tallies t SET count = c.n, updated_at = clock_timestamp()
      FROM (
        SELECT t2.poll_id, t2.option, count(b.voter_id) AS n
        FROM tallies t2 LEFT JOIN ballots b ON b.poll_id = t2.poll_id AND b.option = t2.option
        GROUP BY t2.poll_id, t2.option
      ) AS c
      WHERE c.poll_id = t.poll_id AND c.option = t.option AND t.count <> c.n`);
  }

  /** Keys the audit by stream id again; the duplicate rows removed stay removed. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vote_events DROP CONSTRAINT vote_events_pkey, ALTER COLUMN vote_id DROP NOT NULL, ADD PRIMARY KEY (stream_id)`);
  }
}
