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

  it('refuses a correctly signed token without exp, or without iat', async () => {
    const verifier = new TokenVerifier(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const options = { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE } as const;
    expect(await verifier.verify(jwt.sign({ ...member, iat: now }, SECRET, options))).toBeNull();
    expect(await verifier.verify(jwt.sign({ ...member, exp: now + 60 }, SECRET, { ...options, noTimestamp: true }))).toBeNull();
    expect(await verifier.verify(jwt.sign({ ...member, iat: now, exp: now + 60 }, SECRET, options))).not.toBeNull();
    expect(verifier.size).toBe(1);
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
    const verifier = new TokenVerifier(SECRET, undefined, Date.now, 2);
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => sign({ ...member, sub }));
    await verifier.verify(a!);
    await verifier.verify(b!);
    await verifier.verify(a!); // a is now the most recently used
    await verifier.verify(c!); // evicts b
    expect(verifier.size).toBe(2);
    const verified = (verifier as unknown as { verified: { keys(): Iterable<string> } }).verified;
    expect([...verified.keys()].sort()).toEqual([a, c].sort());
  });
});

describe('TokenVerifier with a revocation check', () => {
  const versioned = (ver?: number): string => sign(ver === undefined ? member : { ...member, ver });

  it('refuses a token whose version is older than the user\'s, answering at once when the check knows', async () => {
    let current = 1;
    const asked: Array<[string, number, boolean]> = [];
    const verifier = new TokenVerifier(SECRET, undefined, Date.now, 10, {
      isCurrent: (id, version, tolerate) => {
        asked.push([id, version, tolerate]);
        return version >= current;
      },
    });
    const older = versioned(0);
    const newer = versioned(1);
    expect(verifier.verifyNow(newer)).toMatchObject({ id: 'u1' });
    expect(verifier.verifyNow(older)).toBeNull();
    // A token issued before versions existed counts as version 0.
    expect(verifier.verifyNow(versioned())).toBeNull();
    current = 2;
    expect(verifier.verifyNow(newer, true)).toBeNull();
    expect(asked).toEqual([['u1', 1, false], ['u1', 0, false], ['u1', 0, false], ['u1', 1, true]]);
    // Refused tokens are forgotten, not kept for the next call.
    expect(verifier.size).toBe(0);
  });

  it('waits for a check that must ask, then runs the active-user check', async () => {
    const order: string[] = [];
    const verifier = new TokenVerifier(
      SECRET,
      async () => {
        order.push('active');
        return true;
      },
      Date.now,
      10,
      {
        isCurrent: async (_id, version) => {
          order.push('revocation');
          return version >= 3;
        },
      },
    );
    const result = verifier.verifyNow(versioned(3));
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toMatchObject({ id: 'u1' });
    expect(await verifier.verify(versioned(2))).toBeNull();
    expect(order).toEqual(['revocation', 'active', 'revocation']);
  });

  it('lets the check\'s refusal to answer (503) through', async () => {
    const verifier = new TokenVerifier(SECRET, undefined, Date.now, 10, {
      isCurrent: () => Promise.reject(new Error('store unreachable')),
    });
    await expect(verifier.verify(versioned(0))).rejects.toThrow('store unreachable');
  });

  it('answers the expiry of a token it verified', async () => {
    const verifier = new TokenVerifier(SECRET);
    const token = sign(member, { expiresIn: 60 });
    expect(verifier.expiresAt(token)).toBeUndefined();
    await verifier.verify(token);
    expect(Math.abs(verifier.expiresAt(token)! - (Date.now() + 60_000))).toBeLessThan(2000);
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
