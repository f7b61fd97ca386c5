import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { BaseEnv, ConfigError, DEV_INTERNAL_TOKEN_SECRET, loadEnv } from '@flotilla/config';
import type { RpcActor } from '@flotilla/contracts';
import { CallerRefused, InternalCaller, isAdminCaller, requestDigest, RPC_TOKEN_AUDIENCE, SIGNATURE_HEADER, SIGNER_HEADER } from './internal-caller.js';
import { ThrottledWarning } from './throttled-warning.js';

const SECRET = 'a-secret-only-the-services-hold-0123456789';
const ADMIN: RpcActor = { userId: 'u-1', role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: 'u-2', role: 'member', teamId: 't-1' };
const gateway = new InternalCaller(SECRET, 'gateway');
const owner = new InternalCaller(SECRET, 'upload');
const stranger = new InternalCaller('another-key-that-is-not-the-platforms-0000', 'gateway');
const reason = (result: unknown): string | undefined => (result instanceof CallerRefused ? result.reason : undefined);
const BODY = Buffer.from('{"pattern":"p","payload":{}}');

describe('InternalCaller: RPC caller tokens', () => {
  it('carries the actor and the calling service to the owner', () => {
    expect(owner.verify(gateway.mint('upload.list', MEMBER, 5000, BODY), 'upload.list', BODY)).toEqual({ service: 'gateway', actor: MEMBER });
    expect(owner.verify(gateway.mint('upload.purge', ADMIN, 5000, BODY), 'upload.purge', BODY)).toEqual({ service: 'gateway', actor: ADMIN });
  });

  it('names the service alone when it calls on its own', () => {
    expect(owner.verify(new InternalCaller(SECRET, 'admin').mint('upload.counts', undefined, 5000, BODY), 'upload.counts', BODY)).toEqual({ service: 'admin' });
  });

  it('lives at least a minute, and beyond a long call\'s timeout', () => {
    const short = jwt.decode(gateway.mint('p', MEMBER, 5000, BODY)) as { iat: number; exp: number };
    const long = jwt.decode(gateway.mint('p', MEMBER, 110_000, BODY)) as { iat: number; exp: number };
    expect(short.exp - short.iat).toBe(60);
    expect(long.exp - long.iat).toBe(140);
  });

  it('refuses a missing, foreign, expired, mis-aimed or malformed token', () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: object, options: jwt.SignOptions = {}, key = SECRET): string =>
      jwt.sign({ role: 'admin', team: null, pat: 'p', req: requestDigest(BODY), ...claims }, key, { algorithm: 'HS256', audience: RPC_TOKEN_AUDIENCE, issuer: 'gateway', subject: 'u', ...options });
    expect(reason(owner.verify(undefined, 'p', BODY))).toBe('missing');
    expect(reason(owner.verify('', 'p', BODY))).toBe('missing');
    expect(reason(owner.verify(42, 'p', BODY))).toBe('malformed');
    expect(reason(owner.verify('not.a.jwt', 'p', BODY))).toBe('malformed');
    expect(reason(owner.verify(stranger.mint('p', ADMIN, 5000, BODY), 'p', BODY))).toBe('signature');
    expect(reason(owner.verify(sign({ exp: now - 10 }), 'p', BODY))).toBe('expired');
    expect(reason(owner.verify(sign({}), 'p', BODY))).toBe('malformed'); // no exp
    expect(reason(owner.verify(sign({ exp: now + 60 }, { audience: 'flotilla:access' }), 'p', BODY))).toBe('audience');
    expect(reason(owner.verify(gateway.mint('upload.list', ADMIN, 5000, BODY), 'upload.purge', BODY))).toBe('pattern');
    expect(reason(owner.verify(sign({ exp: now + 60, role: 'root' }), 'p', BODY))).toBe('malformed');
    // A token read off the broker cannot carry another payload.
    expect(reason(owner.verify(gateway.mint('p', ADMIN, 5000, BODY), 'p', Buffer.from('{"pattern":"p","payload":{"all":true}}')))).toBe('request');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u', role: 'admin', team: null, pat: 'p', req: requestDigest(BODY), aud: RPC_TOKEN_AUDIENCE, iss: 'gateway', exp: now + 60 })).toString('base64url')}.`;
    expect(reason(owner.verify(none, 'p', BODY))).toBeDefined();
    expect(reason(owner.verify(Buffer.from(gateway.mint('p', MEMBER, 5000, BODY)), 'p', BODY))).toBeUndefined();
  });

  it('lets administrators, or the named services calling on their own, use admin patterns', () => {
    expect(isAdminCaller({ actor: ADMIN, caller: { service: 'gateway', actor: ADMIN } })).toBe(true);
    expect(isAdminCaller({ actor: MEMBER, caller: { service: 'admin', actor: MEMBER } }, ['admin'])).toBe(false);
    expect(isAdminCaller({ caller: { service: 'admin' } }, ['admin'])).toBe(true);
    expect(isAdminCaller({ caller: { service: 'gateway' } }, ['admin'])).toBe(false);
    expect(isAdminCaller({})).toBe(false);
  });
});

describe('InternalCaller: event signatures', () => {
  const body = Buffer.from('{"id":"e-1","type":"dataset.deleted","data":{}}');
  const headers = gateway.signEvent('e-1', 'dataset.deleted', body);

  it('verifies what a service signed, with its name as signer', () => {
    expect(headers[SIGNER_HEADER]).toBe('gateway');
    expect(owner.verifyEvent('e-1', 'dataset.deleted', body, headers)).toBeUndefined();
  });

  it('refuses a missing signature, another key, and any change of id, routing key, signer or body', () => {
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, {}))).toBe('missing');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, undefined))).toBe('missing');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, stranger.signEvent('e-1', 'dataset.deleted', body)))).toBe('signature');
    expect(reason(owner.verifyEvent('e-2', 'dataset.deleted', body, headers))).toBe('signature');
    expect(reason(owner.verifyEvent('e-1', 'dataset.uploaded', body, headers))).toBe('signature');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, { ...headers, [SIGNER_HEADER]: 'upload' }))).toBe('signature');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', Buffer.concat([body, Buffer.from(' ')]), headers))).toBe('signature');
    expect(reason(owner.verifyEvent(undefined, 'dataset.deleted', body, headers))).toBe('malformed');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, { ...headers, [SIGNATURE_HEADER]: 'sha1=abc' }))).toBe('malformed');
    expect(reason(owner.verifyEvent('e-1', 'dataset.deleted', body, { ...headers, [SIGNATURE_HEADER]: 'v1=short' }))).toBe('signature');
  });
});

describe('INTERNAL_TOKEN_SECRET', () => {
  it('has a development default that production refuses, and must be long', () => {
    expect(loadEnv(BaseEnv, {}).INTERNAL_TOKEN_SECRET).toBe(DEV_INTERNAL_TOKEN_SECRET);
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app:s3cret@db:5432/app', AMQP_URL: 'amqp://app:s3cret@mq:5672' };
    expect(() => loadEnv(BaseEnv, production)).toThrow(/INTERNAL_TOKEN_SECRET must be set to a non-default value/);
    expect(() => loadEnv(BaseEnv, { INTERNAL_TOKEN_SECRET: 'short' })).toThrow(ConfigError);
    expect(loadEnv(BaseEnv, { ...production, INTERNAL_TOKEN_SECRET: SECRET }).INTERNAL_TOKEN_SECRET).toBe(SECRET);
  });

  it('never appears in a configuration error', () => {
    try {
      loadEnv(BaseEnv, { INTERNAL_TOKEN_SECRET: 'short-secret-value' });
    } catch (error) {
      expect(String(error)).not.toContain('short-secret-value');
    }
  });
});

describe('ThrottledWarning', () => {
  it('writes one warning per key per interval and says how many it held back', () => {
    const lines: string[] = [];
    let now = 0;
    const warning = new ThrottledWarning({ warn: (m: string) => lines.push(m) }, 10_000, () => now);
    for (let i = 0; i < 50; i++) warning.warn('missing', 'refused');
    warning.warn('expired', 'refused expired');
    now = 10_000;
    warning.warn('missing', 'refused');
    expect(lines).toEqual(['refused', 'refused expired', 'refused (49 more like it in the last 10 s)']);
  });
});
