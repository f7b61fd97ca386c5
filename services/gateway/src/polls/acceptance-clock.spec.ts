import { describe, expect, it } from '@jest/globals';
import { AcceptanceClock } from './acceptance-clock.js';

describe('AcceptanceClock', () => {
  it('gives the wall time to the microsecond, strictly increasing within a millisecond', () => {
    let now = Date.parse('2026-11-23T09:00:00.123Z');
    const clock = new AcceptanceClock(() => now);
    expect(clock.next()).toBe('2026-11-23T09:00:00.123000Z');
    expect(clock.next()).toBe('2026-11-23T09:00:00.123001Z');
    expect(clock.next()).toBe('2026-11-23T09:00:00.123002Z');
    now += 1;
    expect(clock.next()).toBe('2026-11-23T09:00:00.124000Z');
  });

  it('never goes back when the wall clock does', () => {
    let now = Date.parse('2026-11-23T09:00:00.500Z');
    const clock = new AcceptanceClock(() => now);
    const first = clock.next();
    now -= 200;
    const second = clock.next();
    expect(second > first).toBe(true);
    expect(second).toBe('2026-11-23T09:00:00.500001Z');
  });

  it('orders as Postgres reads it: every value parses, and sorts as text in time order', () => {
    const clock = new AcceptanceClock();
    const values = Array.from({ length: 2000 }, () => clock.next());
    expect([...values].sort()).toEqual(values);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(Number.isNaN(Date.parse(v))).toBe(false);
  });
});
