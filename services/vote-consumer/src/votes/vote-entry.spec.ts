import { describe, expect, it } from '@jest/globals';
import { toVoteRecord } from './vote-entry.js';

describe('toVoteRecord', () => {
  const fields = {
    voteId: '0b7c1b9e-6a4e-4f0e-9d55-0d1c4c0f2a11',
    pollId: 'cats-vs-dogs',
    option: 'cats',
    voterId: 'user-1',
    ip: '10.0.0.1',
    userAgent: 'curl/8',
    requestId: 'req-1',
    at: '2026-11-23T09:00:00.000Z',
  };

  it('reads an entry as the gateway writes it', () => {
    expect(toVoteRecord({ id: '1795425985032-3', fields })).toEqual({
      streamId: '1795425985032-3',
      ...fields,
      problem: null,
    });
  });

  it('never throws on bad content: names what is missing, strips NUL, falls back to the stream time', () => {
    const record = toVoteRecord({ id: '1700000000000-0', fields: { option: 'ca\0ts', voteId: 'not-a-uuid', at: 'yesterday' } });
    expect(record).toMatchObject({
      option: 'cats',
      voteId: null,
      pollId: null,
      at: new Date(1700000000000).toISOString(),
      problem: 'missing pollId, voterId',
    });
  });
});
