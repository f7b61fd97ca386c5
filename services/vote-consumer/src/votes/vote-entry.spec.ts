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

  it('passes `at` in the form the gateway writes on as it is, and normalises any other the way Date does', () => {
    const at = (value: string) => toVoteRecord({ id: '1700000000000-0', fields: { ...fields, at: value } }).at;
    const cases = [
      '2026-11-23T09:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2000-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-02-29T00:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-12-31T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-11-23T09:00:00Z',
      '2026-11-23T10:00:00.000+01:00',
      '0000-01-01T00:00:00.000Z',
    ];
    for (const value of cases) expect(at(value)).toBe(new Date(Date.parse(value)).toISOString());
    expect(at('2026-13-01T00:00:00.000Z')).toBe(new Date(1700000000000).toISOString());
  });

  it('keeps the microseconds of `at`, which order two votes the gateway accepted in one millisecond', () => {
    const at = (value: string) => toVoteRecord({ id: '1700000000000-0', fields: { ...fields, at: value } }).at;
    expect(at('2026-11-23T09:00:00.000001Z')).toBe('2026-11-23T09:00:00.000001Z');
    expect(at('2026-11-23T09:00:00.123999Z')).toBe('2026-11-23T09:00:00.123999Z');
    expect(at('2026-02-30T09:00:00.000001Z')).toBe(new Date(Date.parse('2026-02-30T09:00:00.000001Z')).toISOString());
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
