import { describe, expect, it, jest } from '@jest/globals';
import { throttledWarning } from './logger.js';

describe('throttledWarning', () => {
  it('logs the first warning, then at most one per interval', () => {
    const warn = jest.fn<(message: string) => void>();
    const now = jest.spyOn(Date, 'now');
    try {
      const say = throttledWarning({ warn }, 10_000);
      for (const [at, message] of [[0, 'down'], [5_000, 'still down'], [9_999, 'still down'], [10_000, 'down again'], [15_000, 'quiet']] as const) {
        now.mockReturnValue(1_000_000 + at);
        say(message);
      }
      expect(warn.mock.calls.map(([m]) => m)).toEqual(['down', 'down again']);
    } finally {
      now.mockRestore();
    }
  });
});
