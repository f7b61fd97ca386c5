import { describe, expect, it } from '@jest/globals';
import { ManualScheduler } from './scheduler.js';

describe('ManualScheduler', () => {
  it('runs due timers in time order, each at its own moment, including timers set while advancing', () => {
    const scheduler = new ManualScheduler(0);
    const seen: string[] = [];
    scheduler.setTimeout(() => seen.push(`b@${scheduler.now()}`), 200);
    scheduler.setTimeout(() => {
      seen.push(`a@${scheduler.now()}`);
      scheduler.setTimeout(() => seen.push(`c@${scheduler.now()}`), 50);
    }, 100);
    scheduler.setTimeout(() => seen.push(`late@${scheduler.now()}`), 1000);

    scheduler.advance(300);

    expect(seen).toEqual(['a@100', 'c@150', 'b@200']);
    expect(scheduler.now()).toBe(300);
    expect(scheduler.pending).toBe(1);
  });

  it('runs timers due at the same moment in the order they were set, and never a cleared one', () => {
    const scheduler = new ManualScheduler(0);
    const seen: number[] = [];
    scheduler.setTimeout(() => seen.push(1), 10);
    const cleared = scheduler.setTimeout(() => seen.push(2), 10);
    scheduler.setTimeout(() => seen.push(3), 10);
    scheduler.clearTimeout(cleared);

    scheduler.advance(10);

    expect(seen).toEqual([1, 3]);
    expect(scheduler.pending).toBe(0);
  });
});
