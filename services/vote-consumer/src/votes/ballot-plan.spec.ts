import { describe, expect, it } from '@jest/globals';
import { planBallots, type BallotVote } from './ballot-plan.js';

const vote = (voterId: string, option: string, streamId: string): BallotVote => ({
  pollId: 'p',
  voterId,
  option,
  streamId,
  voteId: null,
  at: '2026-01-01T00:00:00.000Z',
});

describe('planBallots', () => {
  it('counts a first vote', () => {
    expect(planBallots([], [vote('u1', 'cats', '1-0')])).toEqual({
      ballots: [vote('u1', 'cats', '1-0')],
      deltas: [{ pollId: 'p', option: 'cats', delta: 1 }],
    });
  });

  it('moves the count when a newer vote replaces the ballot', () => {
    const plan = planBallots([{ pollId: 'p', voterId: 'u1', option: 'cats', streamId: '1-0' }], [vote('u1', 'dogs', '2-0')]);
    expect(plan.ballots).toEqual([vote('u1', 'dogs', '2-0')]);
    expect(plan.deltas).toEqual([
      { pollId: 'p', option: 'cats', delta: -1 },
      { pollId: 'p', option: 'dogs', delta: 1 },
    ]);
  });

  it('ignores a vote older than the stored ballot, comparing ids numerically', () => {
    // As strings "9-0" > "10-0"; as stream ids 9 ms is older.
    const plan = planBallots([{ pollId: 'p', voterId: 'u1', option: 'cats', streamId: '10-0' }], [vote('u1', 'dogs', '9-0')]);
    expect(plan).toEqual({ ballots: [], deltas: [] });
    const sameMs = planBallots([{ pollId: 'p', voterId: 'u1', option: 'cats', streamId: '5-10' }], [vote('u1', 'dogs', '5-9')]);
    expect(sameMs).toEqual({ ballots: [], deltas: [] });
  });

  it('keeps only the newest vote of a voter within a batch, whatever the order', () => {
    const plan = planBallots([], [vote('u1', 'dogs', '3-0'), vote('u1', 'cats', '2-1'), vote('u1', 'birds', '3-1'), vote('u1', 'cats', '1-0')]);
    expect(plan.ballots).toEqual([vote('u1', 'birds', '3-1')]);
    expect(plan.deltas).toEqual([{ pollId: 'p', option: 'birds', delta: 1 }]);
  });

  it('a newer vote for the same option refreshes the ballot without touching the tally', () => {
    const plan = planBallots([{ pollId: 'p', voterId: 'u1', option: 'cats', streamId: '1-0' }], [vote('u1', 'cats', '2-0')]);
    expect(plan.ballots).toHaveLength(1);
    expect(plan.deltas).toEqual([]);
  });

  it('nets out moves in both directions and drops zero deltas', () => {
    const plan = planBallots(
      [
        { pollId: 'p', voterId: 'u1', option: 'cats', streamId: '1-0' },
        { pollId: 'p', voterId: 'u2', option: 'dogs', streamId: '1-1' },
      ],
      [vote('u1', 'dogs', '2-0'), vote('u2', 'cats', '2-1')],
    );
    expect(plan.ballots).toHaveLength(2);
    expect(plan.deltas).toEqual([]);
  });
});
