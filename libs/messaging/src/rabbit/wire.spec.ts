import { describe, expect, it } from '@jest/globals';
import { decodeEnvelope, decodeRpcReply, decodeRpcRequest, errorMessage } from './wire.js';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('decodeRpcRequest', () => {
  it('accepts a pattern and any payload; an actor written in the body is dropped (the caller is the signed token)', () => {
    const actor = { userId: 'u', role: 'admin', teamId: null };
    expect(decodeRpcRequest(json({ pattern: 'votes.getPoll', payload: { pollId: 'x' }, actor }))).toEqual({
      pattern: 'votes.getPoll',
      payload: { pollId: 'x' },
    });
    expect(decodeRpcRequest(json({ pattern: 'votes.listPolls' }))).toEqual({ pattern: 'votes.listPolls', payload: undefined });
  });

  it('explains what is wrong with anything else', () => {
    expect(decodeRpcRequest(Buffer.from('{nope'))).toMatch(/not valid JSON/);
    expect(decodeRpcRequest(json([1]))).toMatch(/JSON object/);
    expect(decodeRpcRequest(json({ payload: 1 }))).toMatch(/pattern/);
    expect(decodeRpcRequest(json({ pattern: '' }))).toMatch(/pattern/);
    expect(decodeRpcRequest(json({ pattern: 'x'.repeat(201) }))).toMatch(/pattern/);
  });
});

describe('decodeRpcReply', () => {
  it('passes success and well-formed errors through', () => {
    expect(decodeRpcReply(json({ ok: true, data: [1] }))).toEqual({ ok: true, data: [1] });
    const error = { code: 'CONFLICT', message: 'taken', errors: [{ path: 'name', message: 'taken' }] };
    expect(decodeRpcReply(json({ ok: false, error }))).toEqual({ ok: false, error });
  });

  it('turns malformed replies and unknown codes into INTERNAL', () => {
    for (const body of [Buffer.from('garbage'), json({ ok: false, error: { code: 'TEAPOT', message: 'x' } }), json({ data: 1 })]) {
      const reply = decodeRpcReply(body);
      expect(reply.ok).toBe(false);
      expect(reply.ok === false && reply.error.code).toBe('INTERNAL');
    }
  });
});

describe('decodeEnvelope', () => {
  const envelope = { id: 'e', type: 'a.b', occurredAt: '2026-01-01T00:00:00.000Z', source: 's', correlationId: 'c', data: null };

  it('accepts an envelope', () => {
    expect(decodeEnvelope(json(envelope))).toEqual(envelope);
  });

  it('rejects bodies that are not envelopes', () => {
    expect(decodeEnvelope(Buffer.from('x'))).toBeUndefined();
    expect(decodeEnvelope(json({ ...envelope, id: 1 }))).toBeUndefined();
    const { data: _data, ...withoutData } = envelope;
    expect(decodeEnvelope(json(withoutData))).toBeUndefined();
  });
});

describe('errorMessage', () => {
  it('names the error and cuts long messages', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('TypeError: bad');
    expect(errorMessage('x'.repeat(2000), 10)).toBe(`${'x'.repeat(10)}…`);
  });
});
