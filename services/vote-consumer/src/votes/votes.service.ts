import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import type { StreamEntry } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { PollsService } from '../polls/polls.service.js';
import { planBallots, type BallotVote, type CurrentBallot } from './ballot-plan.js';
import { toVoteRecord, type VoteRecord } from './vote-entry.js';

/** What one batch did. */
export interface BatchOutcome {
  received: number;
  /** Entries recorded by an earlier delivery: skipped. */
  duplicates: number;
  /** New valid votes, now in the audit and counted. */
  persisted: number;
  /** New entries kept in the audit but not counted (unknown poll or option, missing fields). */
  rejected: number;
  /** Ballots inserted or replaced. */
  ballots: number;
}

/**
 * Writes a batch of votes in one transaction: the audit rows (new ones only, by stream
 * id), the voters' current ballots and the tallies, all set-based. The ballots of a poll
 * are read and replaced under a transaction-scoped advisory lock on the poll, so
 * concurrent consumers (in this process or others) cannot both replace the same ballot.
 * Committing is what lets the stream consumer acknowledge the batch.
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
    const options = await this.polls.optionsOf(records.flatMap((r) => (r.pollId ? [r.pollId] : [])), runner);
    for (const record of records) {
      if (record.problem) continue;
      const known = options.get(record.pollId!);
      if (!known) record.problem = 'unknown poll';
      else if (!known.has(record.option!)) record.problem = 'unknown option';
    }
    const counted = records.filter((r) => !r.problem);

    const inserted = (await runner.query(
      `INSERT INTO vote_events (stream_id, vote_id, poll_id, option, voter_id, ip, user_agent, request_id, at, rejected_reason)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[])
       ON CONFLICT (stream_id) DO NOTHING
       RETURNING stream_id`,
      [
        records.map((r) => r.streamId),
        records.map((r) => r.voteId),
        records.map((r) => r.pollId),
        records.map((r) => r.option),
        records.map((r) => r.voterId),
        records.map((r) => r.ip),
        records.map((r) => r.userAgent),
        records.map((r) => r.requestId),
        records.map((r) => r.at),
        records.map((r) => r.problem),
      ],
    )) as { stream_id: string }[];
    const isNew = new Set(inserted.map((row) => row.stream_id));
    const rejected = records.filter((r) => r.problem && isNew.has(r.streamId));
    for (const r of rejected) this.rejectedTotal.inc({ reason: r.problem!.startsWith('missing') ? 'malformed' : r.problem!.replace(' ', '_') });
    if (rejected.length > 0) {
      this.logger.warn(`${rejected.length} vote entries recorded but not counted, e.g. ${rejected[0]!.streamId}: ${rejected[0]!.problem}`);
    }

    const votes: BallotVote[] = counted
      .filter((r) => isNew.has(r.streamId))
      .map((r) => ({ pollId: r.pollId!, voterId: r.voterId!, option: r.option!, streamId: r.streamId, voteId: r.voteId, at: r.at }));
    const outcome: BatchOutcome = {
      received: records.length,
      duplicates: records.length - isNew.size,
      persisted: votes.length,
      rejected: rejected.length,
      ballots: 0,
    };
    if (votes.length === 0) return outcome;

    // Ballots and tallies are read and written under the polls' locks (sorted: no deadlock
    // between instances); the audit insert above runs outside them, in parallel. A
    // transaction holding a lock never waits on an audit row, so no cycle can form.
    for (const pollId of [...new Set(votes.map((v) => v.pollId))].sort()) {
      // Keyed by schema too: test runs (and installations) share the database.
      await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/votes/' || $1, 0))`, [pollId]);
    }
    const current = (await runner.query(
      `SELECT b.poll_id AS "pollId", b.voter_id AS "voterId", b.option, b.stream_id AS "streamId"
       FROM ballots b JOIN unnest($1::text[], $2::text[]) AS k(poll_id, voter_id) USING (poll_id, voter_id)`,
      [votes.map((v) => v.pollId), votes.map((v) => v.voterId)],
    )) as CurrentBallot[];
    const plan = planBallots(current, votes);

    if (plan.ballots.length > 0) {
      await runner.query(
        `INSERT INTO ballots (poll_id, voter_id, option, stream_id, vote_id, voted_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[])
         ON CONFLICT (poll_id, voter_id) DO UPDATE
           SET option = EXCLUDED.option, stream_id = EXCLUDED.stream_id, vote_id = EXCLUDED.vote_id,
               voted_at = EXCLUDED.voted_at, updated_at = clock_timestamp()`,
        [
          plan.ballots.map((b) => b.pollId),
          plan.ballots.map((b) => b.voterId),
          plan.ballots.map((b) => b.option),
          plan.ballots.map((b) => b.streamId),
          plan.ballots.map((b) => b.voteId),
          plan.ballots.map((b) => b.at),
        ],
      );
    }
    if (plan.deltas.length > 0) {
      const result = (await runner.query(
        `UPDATE tallies AS t SET count = t.count + d.delta, updated_at = clock_timestamp()
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS d(poll_id, option, delta)
         WHERE t.poll_id = d.poll_id AND t.option = d.option`,
        [plan.deltas.map((d) => d.pollId), plan.deltas.map((d) => d.option), plan.deltas.map((d) => d.delta)],
        true,
      )) as { affected?: number };
      // Every option has its tally row from the poll's creation; a missing one is a bug, not a vote to drop.
      if (result.affected !== plan.deltas.length) {
        throw new Error(`tally rows missing: updated ${result.affected ?? 0} of ${plan.deltas.length}`);
      }
    }
    outcome.ballots = plan.ballots.length;
    return outcome;
  }
}
