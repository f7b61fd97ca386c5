import { describe, expect, it } from '@jest/globals';
import { forEachBounded } from './bounded.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('forEachBounded', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachBounded([5, 1, 4, 2, 3, 0], 3, async (ms, index) => {
      running++;
      most = Math.max(most, running);
      await sleep(ms * 3);
      seen[index] = ms;
      running--;
    });
    expect(most).toBe(3);
    expect(seen).toEqual([5, 1, 4, 2, 3, 0]);
  });

  it('starts nothing after a failure, aborts the running calls, and throws the first error', async () => {
    const started: number[] = [];
    let abortedOthers = 0;
    const run = forEachBounded([0, 1, 2, 3, 4], 2, async (item, _, signal) => {
      started.push(item);
      if (item === 0) {
        await sleep(5);
        throw new Error('first');
      }
      await new Promise<void>((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          abortedOthers++;
          reject(new Error('aborted'));
        }),
      );
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(abortedOthers).toBe(1);
  });

  it('throws when the parent signal stops it before every item started', async () => {
    const parent = new AbortController();
    const done: number[] = [];
    const run = forEachBounded([1, 2, 3, 4], 1, async (item) => {
      await sleep(5);
      done.push(item);
      if (item === 2) parent.abort(new Error('deleted'));
    }, parent.signal);
    await expect(run).rejects.toThrow('deleted');
    expect(done).toEqual([1, 2]);
  });
});
