import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import type { StreamEntry } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { PollsService } from '../polls/polls.service.js';
import { toVoteRecord, type VoteRecord } from './vote-entry.js';

/** What one batch did. */
export interface BatchOutcome {
  received: number;
  /** Votes recorded before (an earlier delivery, or a replay of a committed vote): skipped. */
  duplicates: number;
  /** New valid votes, now in the audit and counted. */
  persisted: number;
  /** New entries kept in the audit but not counted (unknown poll or option, missing fields). */
  rejected: number;
  /** Ballots inserted or replaced. */
  ballots: number;
}

/**
 * Writes a batch of votes in one transaction: the audit rows (new votes only, by vote
 * id), the voters' current ballots (in the gateway's acceptance order) and the tallies, in one set-based statement
 * ({@link RECORD_BATCH}). It runs under a transaction-scoped advisory lock on each of the
 * batch's polls, so concurrent consumers (in this process or others) cannot both replace
 * the same ballot. Committing is what lets the stream consumer acknowledge the batch.
 */
@Injectable()
export class VotesService {
  private readonly logger = new Logger(VotesService.name);
  private readonly persistedTotal;
  private readonly rejectedTotal;
  private readonly duplicatesTotal;
  private readonly batchesTotal;
  private readonly batchDuration;

  constructor(
    private readonly dataSource: DataSource,
    private readonly polls: PollsService,
    metrics: MetricsService,
  ) {
    this.persistedTotal = metrics.counter({ name: 'votes_persisted_total', help: 'Votes committed to Postgres (audit, ballot and tally), each counted once' });
    this.rejectedTotal = metrics.counter({ name: 'votes_rejected_total', help: 'Vote entries kept in the audit but not counted, by reason', labelNames: ['reason'] });
    this.duplicatesTotal = metrics.counter({ name: 'votes_duplicates_total', help: 'Vote entries delivered again after they had been committed, skipped' });
    this.batchesTotal = metrics.counter({ name: 'vote_batches_total', help: 'Vote batches handled, by outcome', labelNames: ['outcome'] });
    this.batchDuration = metrics.histogram({
      name: 'vote_batch_duration_seconds',
      help: 'Time to commit one batch of votes',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  /** Commits `entries`; idempotent, so a redelivered batch changes nothing. Throws when the transaction fails. */
  async record(entries: StreamEntry[]): Promise<BatchOutcome> {
    const stopTimer = this.batchDuration.startTimer();
    try {
      const records = entries.map(toVoteRecord);
      const outcome = await this.dataSource.transaction((manager) => this.write(manager.queryRunner!, records));
      this.batchesTotal.inc({ outcome: 'ok' });
      this.persistedTotal.inc(outcome.persisted);
      this.duplicatesTotal.inc(outcome.duplicates);
      return outcome;
    } catch (error) {
      this.batchesTotal.inc({ outcome: 'failed' });
      throw error;
    } finally {
      stopTimer();
    }
  }

  private async write(runner: QueryRunner, records: VoteRecord[]): Promise<BatchOutcome> {
    const options = await this.polls.optionsOf(pollIdsOf(records), runner);
    const locked = new Set<string>();
    for (const record of records) {
      if (record.problem) continue;
      const known = options.get(record.pollId!);
      if (!known) record.problem = 'unknown poll';
      else if (!known.has(record.option!)) record.problem = 'unknown option';
      else locked.add(record.pollId!);
    }

    // The polls' locks come first (sorted: no deadlock between instances), before any audit
    // row is written: a transaction waiting on another's audit row (the same entry, handed
    // to two consumers by a reclaim) waits on one that holds every lock it will take, so no
    // cycle can form. Under the lock no other writer changes these polls' ballots, so the
    // statement below reads the current ballots from its own snapshot.
    for (const pollId of [...locked].sort()) {
      // Keyed by schema too: test runs (and installations) share the database.
      await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/votes/' || $1, 0))`, [pollId]);
    }
    const [row] = (await runner.query(RECORD_BATCH, [JSON.stringify(records.map(toRow))])) as BatchRow[];
    const result = row!;
    // Every option has its tally row from the poll's creation; a missing one is a bug, not a vote to drop.
    if (result.tallies !== result.deltas) {
      throw new Error(`tally rows missing: updated ${result.tallies} of ${result.deltas}`);
    }

    let rejected = 0;
    for (const r of result.rejected ?? []) {
      rejected += r.n;
      this.rejectedTotal.inc({ reason: r.reason.startsWith('missing') ? 'malformed' : r.reason.replace(' ', '_') }, r.n);
    }
    if (rejected > 0) {
      const first = result.rejected![0]!;
      this.logger.warn(`${rejected} vote entries recorded but not counted, e.g. ${first.example}: ${first.reason}`);
    }
    return {
      received: records.length,
      duplicates: records.length - result.inserted,
      persisted: result.inserted - rejected,
      rejected,
      ballots: result.ballots,
    };
  }
}

/** The distinct poll ids of a batch. */
function pollIdsOf(records: readonly VoteRecord[]): Set<string> {
  const ids = new Set<string>();
  for (const r of records) if (r.pollId) ids.add(r.pollId);
  return ids;
}

/**
 * A record as one element of {@link RECORD_BATCH}'s JSON array, its columns by position:
 * Postgres reads an array of arrays faster than objects with names, and it is smaller.
 */
function toRow(r: VoteRecord): (string | null)[] {
  return [r.streamId, r.voteId, r.pollId, r.option, r.voterId, r.ip, r.userAgent, r.requestId, r.at, r.problem];
}

/** What {@link RECORD_BATCH} answers: counts, and the new entries not counted by reason. */
interface BatchRow {
  /** New audit rows (the rest were recorded by an earlier delivery). */
  inserted: number;
  /** Ballots inserted or replaced. */
  ballots: number;
  /** Tallies to move, and tallies moved: equal unless a tally row is missing. */
  deltas: number;
  tallies: number;
  rejected: { reason: string; n: number; example: string }[] | null;
}

/** Sort keys of a stream id column as Redis orders ids: time, then sequence, numerically. */
const streamOrder = (id: string, direction = ''): string =>
  `split_part(${id}, '-', 1)::numeric ${direction}, split_part(${id}, '-', 2)::numeric ${direction}`;

/**
 * One batch (its {@link VoteRecord}s as a JSON array of {@link toRow} arrays) in one
 * statement, run under the locks of its polls. A vote is its `voteId` (an entry without a
 * valid one, not written by the gateway, gets one derived from its stream id), and its
 * place in its voter's order is the gateway's acceptance time `at` (to the microsecond),
 * then the stream id for entries that carry the same time: the admin's replay of a dead
 * letter adds the same vote again under a new stream id, which must change nothing.
 * - `audit`: every entry into `vote_events`, once per vote id; a vote seen before (a
 *   redelivery, or a replay of a vote that was committed) is skipped, and only new votes
 *   go further, so a redelivered or replayed batch changes nothing;
 * - `newest`: of the new countable votes, the last of each voter (by acceptance);
 * - `changed`: those accepted after the voter's stored ballot (an older vote arriving
 *   late, through a reclaim, another consumer or a replay, changes nothing), with the
 *   stored option;
 * - `upserted`: their ballots inserted or replaced;
 * - `deltas`/`moved`: one count off the stored option and onto the new one, netted per
 *   option; a vote for the option already held moves nothing.
 * The CTEs share one snapshot: `changed` sees the ballots as they were before `upserted`.
 */
const RECORD_BATCH = `
  WITH batch AS (
    SELECT e->>0 AS stream_id, COALESCE((e->>1)::uuid, md5('stream-id:' || (e->>0))::uuid) AS vote_id,
           e->>2 AS poll_id, e->>3 AS option, e->>4 AS voter_id,
           e->>5 AS ip, e->>6 AS user_agent, e->>7 AS request_id, (e->>8)::timestamptz AS at, e->>9 AS problem
    FROM jsonb_array_elements($1::jsonb) AS e
  ), audit AS (
    INSERT INTO vote_events (stream_id, vote_id, poll_id, option, voter_id, ip, user_agent, request_id, at, rejected_reason)
    SELECT stream_id, vote_id, poll_id, option, voter_id, ip, user_agent, request_id, at, problem FROM batch
    ON CONFLICT (vote_id) DO NOTHING
    RETURNING stream_id, vote_id, poll_id, option, voter_id, at, rejected_reason
  ), newest AS (
    SELECT DISTINCT ON (poll_id, voter_id) poll_id, voter_id, option, stream_id, vote_id, at
    FROM audit WHERE rejected_reason IS NULL
    ORDER BY poll_id, voter_id, at DESC, ${streamOrder('stream_id', 'DESC')}
  ), changed AS (
    SELECT n.poll_id, n.voter_id, n.option, n.stream_id, n.vote_id, n.at, b.option AS old_option
    FROM newest n LEFT JOIN ballots b ON b.poll_id = n.poll_id AND b.voter_id = n.voter_id
    WHERE b.stream_id IS NULL OR (n.at, ${streamOrder('n.stream_id')}) > (b.voted_at, ${streamOrder('b.stream_id')})
  ), upserted AS (
    INSERT INTO ballots (poll_id, voter_id, option, stream_id, vote_id, voted_at)
    SELECT poll_id, voter_id, option, stream_id, vote_id, at FROM changed
    ON CONFLICT (poll_id, voter_id) DO UPDATE
      SET option = EXCLUDED.option, stream_id = EXCLUDED.stream_id, vote_id = EXCLUDED.vote_id,
          voted_at = EXCLUDED.voted_at, updated_at = clock_timestamp()
    RETURNING 1
  ), deltas AS (
    SELECT poll_id, option, sum(delta) AS delta
    FROM (
      SELECT poll_id, option, 1 AS delta FROM changed WHERE old_option IS DISTINCT FROM option
      UNION ALL
      SELECT poll_id, old_option, -1 FROM changed WHERE old_option <> option
    ) AS m
    GROUP BY poll_id, option
    HAVING sum(delta) <> 0
  ), moved AS (
    UPDATE tallies AS t SET count = t.count + d.delta, updated_at = clock_timestamp()
    FROM deltas d
    WHERE t.poll_id = d.poll_id AND t.option = d.option
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM audit)::int AS inserted,
         (SELECT count(*) FROM upserted)::int AS ballots,
         (SELECT count(*) FROM deltas)::int AS deltas,
         (SELECT count(*) FROM moved)::int AS tallies,
         (SELECT json_agg(json_build_object('reason', reason, 'n', n, 'example', example) ORDER BY n DESC, reason)
          FROM (SELECT rejected_reason AS reason, count(*)::int AS n, min(stream_id) AS example
                FROM audit WHERE rejected_reason IS NOT NULL GROUP BY rejected_reason) AS r) AS rejected`;
