import { compareStreamIds } from '@flotilla/messaging';

/** A counted vote: the voter's choice in a poll as of stream id `streamId`. */
export interface BallotVote {
  pollId: string;
  voterId: string;
  option: string;
  streamId: string;
  voteId: string | null;
  at: string;
}

/** A voter's current ballot as stored. */
export interface CurrentBallot {
  pollId: string;
  voterId: string;
  option: string;
  streamId: string;
}

export interface TallyDelta {
  pollId: string;
  option: string;
  delta: number;
}

export interface BallotPlan {
  /** Ballots to insert or replace. */
  ballots: BallotVote[];
  /** Non-zero changes of the tallies. */
  deltas: TallyDelta[];
}

const keyOf = (pollId: string, other: string): string => `${pollId}\u0000${other}`;

/**
 * What a set of new votes does to the ballots and tallies. Per voter and poll only the
 * newest vote counts, newest by stream id (time, then sequence, numerically), so the
 * order in which batches arrive (redelivery, several consumers) does not matter: a vote
 * older than the stored ballot changes nothing. A replaced ballot moves one count from
 * its old option to the new one.
 */
export function planBallots(current: readonly CurrentBallot[], votes: readonly BallotVote[]): BallotPlan {
  const newest = new Map<string, BallotVote>();
  for (const vote of votes) {
    const key = keyOf(vote.pollId, vote.voterId);
    const seen = newest.get(key);
    if (!seen || compareStreamIds(vote.streamId, seen.streamId) > 0) newest.set(key, vote);
  }
  const stored = new Map(current.map((b) => [keyOf(b.pollId, b.voterId), b]));
  const ballots: BallotVote[] = [];
  const deltas = new Map<string, TallyDelta>();
  const move = (pollId: string, option: string, by: number): void => {
    const key = keyOf(pollId, option);
    const entry = deltas.get(key) ?? { pollId, option, delta: 0 };
    entry.delta += by;
    deltas.set(key, entry);
  };
  for (const [key, vote] of newest) {
    const before = stored.get(key);
    if (before && compareStreamIds(vote.streamId, before.streamId) <= 0) continue;
    ballots.push(vote);
    if (before?.option === vote.option) continue;
    if (before) move(before.pollId, before.option, -1);
    move(vote.pollId, vote.option, +1);
  }
  return { ballots, deltas: [...deltas.values()].filter((d) => d.delta !== 0) };
}
