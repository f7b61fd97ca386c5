import { describe, expect, it } from '@jest/globals';
import { RateMeter, formatBytes, formatDuration } from './format.js';
import { renderIssues } from './render.js';

describe('formatting', () => {
  it('formats bytes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(Infinity)).toBe('--');
    expect(formatDuration(4.4)).toBe('4s');
    expect(formatDuration(75)).toBe('1m 15s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3h 02m');
  });

  it('measures a rate over a window and the time left', () => {
    let now = 0;
    const meter = new RateMeter(5000, () => now);
    meter.sample(0);
    expect(meter.rate()).toBeUndefined();
    now = 1000;
    meter.sample(1000);
    expect(meter.rate()).toBe(1000);
    expect(meter.eta(5000)).toBe(4);
    now = 10_000;
    meter.sample(1000);
    expect(meter.rate()).toBe(0); // the old samples left the window: nothing moved lately
    expect(meter.eta(5000)).toBeUndefined();
  });

  it('cuts long cells of the issues table, but not the message', () => {
    const table = renderIssues([{ severity: 'error', code: 'c', file: `${'f'.repeat(60)}.png`, message: 'm '.repeat(40).trim() }]);
    const [, row] = table.split('\n');
    expect(row).toBe(`error     c     ${'f'.repeat(47)}…  -     ${'m '.repeat(40).trim()}`);
  });
});
