import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { RpcError, type Poll } from '@flotilla/contracts';
import type { RpcClient } from '@flotilla/messaging';
import { POLL_CACHE_MAX_ENTRIES, PollCache } from './poll-cache.js';

const FLOOD = 20_000;
const BATCH = 500;
const HOT: Poll = { id: 'hot', question: 'Cats or dogs?', options: ['cats', 'dogs'] } as unknown as Poll;

/** An RPC client that knows one poll and answers NOT_FOUND for every other id, as `vote-consumer` does. */
function votesRpc(): { rpc: RpcClient; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const rpc = {
    call: async (_service: string, _pattern: string, payload: { pollId: string }): Promise<Poll> => {
      calls.set(payload.pollId, (calls.get(payload.pollId) ?? 0) + 1);
      await new Promise((resolve) => setImmediate(resolve));
      if (payload.pollId === HOT.id) return HOT;
      throw new RpcError('NOT_FOUND', `Poll ${payload.pollId} does not exist.`);
    },
  } as unknown as RpcClient;
  return { rpc, calls };
}

describe('PollCache', () => {
  it('stays within its bound when a member asks for 20,000 random poll ids, and keeps the polls in use', async () => {
    const { rpc, calls } = votesRpc();
    const cache = new PollCache(rpc);
    await cache.get(HOT.id);
    let largest = 0;
    for (let batch = 0; batch < FLOOD / BATCH; batch++) {
      const ids = Array.from({ length: BATCH }, () => randomUUID());
      const answers = await Promise.allSettled(ids.map((id) => cache.get(id)));
      expect(answers.every((a) => a.status === 'rejected')).toBe(true);
      largest = Math.max(largest, cache.size);
      // The poll people vote on is asked for between the bad ids.
      expect(cache.peek(HOT.id)).toBe(HOT);
    }
    // Every miss kept would make it FLOOD + 1.
    expect(largest).toBeLessThan(FLOOD);
    expect(largest).toBeLessThanOrEqual(POLL_CACHE_MAX_ENTRIES);
    // The flood of misses never pushed the known poll out: it was fetched once.
    expect(calls.get(HOT.id)).toBe(1);
  });

  it('answers 404 for an unknown poll and asks the owner only once while the miss is remembered', async () => {
    const { rpc, calls } = votesRpc();
    const cache = new PollCache(rpc);
    const answers = await Promise.allSettled(Array.from({ length: 50 }, () => cache.get('nope')));
    expect(answers.every((a) => a.status === 'rejected' && (a.reason as { getStatus?: () => number }).getStatus?.() === 404)).toBe(true);
    await expect(cache.get('nope')).rejects.toThrow('does not exist');
    expect(calls.get('nope')).toBe(1);
  });
});
