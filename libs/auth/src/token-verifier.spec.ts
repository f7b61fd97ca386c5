import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { JWT_AUDIENCE, JWT_ISSUER } from './auth.types.js';
import { bearerToken, TokenVerifier } from './token-verifier.js';

const SECRET = 'a-test-secret-of-enough-length-0123456789';
const sign = (claims: object, options: jwt.SignOptions = {}, secret = SECRET): string =>
  jwt.sign(claims, secret, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE, expiresIn: 900, ...options });
const member = { sub: 'u1', email: 'm@example.test', role: 'member', teamId: 't1' };

describe('TokenVerifier', () => {
  it('accepts a valid token and answers the caller', async () => {
    const verifier = new TokenVerifier(SECRET);
    expect(await verifier.verify(sign(member))).toEqual({ id: 'u1', email: 'm@example.test', role: 'member', teamId: 't1' });
  });

  it('refuses a wrong signature, issuer, audience, algorithm, role, and garbage', async () => {
    const verifier = new TokenVerifier(SECRET);
    expect(await verifier.verify(sign(member, {}, 'another-secret-of-enough-length-000000'))).toBeNull();
    expect(await verifier.verify(sign(member, { issuer: 'someone-else' }))).toBeNull();
    expect(await verifier.verify(sign(member, { audience: 'another-api' }))).toBeNull();
    expect(await verifier.verify(sign(member, { algorithm: 'HS512' }))).toBeNull();
    expect(await verifier.verify(jwt.sign(member, null, { algorithm: 'none', issuer: JWT_ISSUER, audience: JWT_AUDIENCE }))).toBeNull();
    expect(await verifier.verify(sign({ ...member, role: 'root' }))).toBeNull();
    expect(await verifier.verify('not.a.token')).toBeNull();
    expect(verifier.size).toBe(0);
  });

  it('remembers a verified token until its exp, then refuses it', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const verifier = new TokenVerifier(SECRET, undefined, () => now);
    const token = jwt.sign({ ...member, exp: now / 1000 + 60, iat: now / 1000 }, SECRET, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
    expect(await verifier.verify(token)).not.toBeNull();
    expect(verifier.size).toBe(1);
    now += 59_000;
    expect(await verifier.verify(token)).not.toBeNull();
    now += 1_000;
    expect(await verifier.verify(token)).toBeNull();
    expect(verifier.size).toBe(0);
  });

  it('runs the active-user check on every call, cached or not', async () => {
    const active = new Set(['u1']);
    const asked: string[] = [];
    const verifier = new TokenVerifier(SECRET, async (id) => {
      asked.push(id);
      return active.has(id);
    });
    const token = sign(member);
    expect(await verifier.verify(token)).not.toBeNull();
    expect(await verifier.verify(token)).not.toBeNull();
    active.delete('u1');
    expect(await verifier.verify(token)).toBeNull();
    expect(asked).toEqual(['u1', 'u1', 'u1']);
  });

  it('answers at once (no promise) when the active-user check already knows the user, and waits for it otherwise', async () => {
    const known = new Set<string>();
    const check = Object.assign(async (id: string) => {
      known.add(id);
      return true;
    }, { knownActive: (id: string) => known.has(id) });
    const verifier = new TokenVerifier(SECRET, check);
    const token = sign(member);
    const first = verifier.verifyNow(token);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ id: 'u1' });
    expect(verifier.verifyNow(token)).toMatchObject({ id: 'u1' });
    expect(verifier.verifyNow('not.a.token')).toBeNull();
  });

  it('keeps at most its bound, dropping the least recently used', async () => {
    let now = Date.now();
    const verifier = new TokenVerifier(SECRET, undefined, () => now, 2);
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => sign({ ...member, sub }));
    await verifier.verify(a!);
    await verifier.verify(b!);
    now += 1000;
    await verifier.verify(a!); // a is now the most recently used
    await verifier.verify(c!); // evicts b
    expect(verifier.size).toBe(2);
    const verified = (verifier as unknown as { verified: Map<string, unknown> }).verified;
    expect([...verified.keys()]).toEqual([a, c]);
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, scheme in any case, as passport-jwt does', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
