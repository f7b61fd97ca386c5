import { describe, expect, it } from '@jest/globals';
import type { MessageProperties } from 'amqplib';
import { PAST_DEADLINE, raceDeadline, requestDeadline } from './rpc-deadline.js';

const props = (p: Partial<MessageProperties>): MessageProperties => ({ headers: {}, ...p }) as MessageProperties;

describe('requestDeadline', () => {
  it('takes the caller\'s x-deadline header as is', () => {
    expect(requestDeadline(props({ headers: { 'x-deadline': 5000 } }), 1000, 30_000)).toBe(5000);
  });

  it('falls back to the request\'s expiration, then to the default, counted from delivery', () => {
    expect(requestDeadline(props({ expiration: '700' }), 1000, 30_000)).toBe(1700);
    expect(requestDeadline(props({}), 1000, 30_000)).toBe(31_000);
  });

  it('ignores a header that is not a positive number', () => {
    expect(requestDeadline(props({ headers: { 'x-deadline': 'soon' } }), 1000, 500)).toBe(1500);
    expect(requestDeadline(props({ headers: { 'x-deadline': -3 } }), 1000, 500)).toBe(1500);
  });
});

describe('raceDeadline', () => {
  it('gives the work\'s result when it comes first, else PAST_DEADLINE', async () => {
    await expect(raceDeadline(Promise.resolve('done'), 1000)).resolves.toBe('done');
    await expect(raceDeadline(new Promise(() => undefined), 10)).resolves.toBe(PAST_DEADLINE);
  });
});
