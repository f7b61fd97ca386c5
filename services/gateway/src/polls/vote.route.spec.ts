import { describe, expect, it } from '@jest/globals';
import { plainVote } from './vote.route.js';

describe('plainVote', () => {
  it('takes the option of exactly { option: 1–100 characters }', () => {
    expect(plainVote({ option: 'cats' })).toBe('cats');
    expect(plainVote({ option: 'x'.repeat(100) })).toBe('x'.repeat(100));
  });

  it('leaves everything else to the ValidationPipe', () => {
    for (const body of [undefined, null, 'cats', ['cats'], {}, { option: 42 }, { option: '' }, { option: 'x'.repeat(101) }, { option: 'cats', extra: 1 }, { opt: 'cats' }, { option: '\uFE0F' }, { option: '🐈' }]) {
      expect(plainVote(body)).toBeUndefined();
    }
  });
});
