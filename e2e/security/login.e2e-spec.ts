import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { TEST_DATABASE_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../support/platform.js';
import { send } from '../fuzz/support/http.js';
import { MEMBER_PASSWORD, teamWithMember, type Member } from './support/fixtures.js';

const problemType = 'application/problem+json';
const login = (platform: Platform, email: string, password: string, headers: Record<string, string> = {}) =>
  send(platform.gateway.url, { method: 'POST', url: '/api/v1/auth/login', body: JSON.stringify({ email, password }), contentType: 'application/json', headers });

describe('login', () => {
  describe('throttling against guessing', () => {
    const PER_ACCOUNT = 3;
    const PER_IP = 8;
    const platform = new Platform(
      { LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT), LOGIN_MAX_FAILURES_PER_IP: String(PER_IP), RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_PER_USER: '100000' },
      ['gateway'],
    );
    const members: Member[] = [];

    beforeAll(async () => {
      await platform.start();
      const admin = await platform.api.login(ADMIN.email, ADMIN.password);
      for (const team of ['guessed', 'bystander', 'late']) members.push(await teamWithMember(platform.api, admin, team));
    });

    afterAll(() => platform.stop());

    it(`locks an account after ${PER_ACCOUNT} failures (even the right password is then 429), the same for an unknown email, other accounts unaffected`, async () => {
      const [guessed, bystander] = members as [Member, Member];
      const failures = [];
      for (let i = 0; i < PER_ACCOUNT; i++) failures.push((await login(platform, guessed.email, `wrong-guess-${i}-xxxxx`)).status);
      const right = await login(platform, guessed.email, MEMBER_PASSWORD);
      const caseVariant = await login(platform, guessed.email.toUpperCase(), MEMBER_PASSWORD);
      const unknown = [];
      for (let i = 0; i < PER_ACCOUNT + 1; i++) unknown.push((await login(platform, 'nobody-here@security.test', `guess-${i}-xxxxxxxx`)).status);
      const other = await login(platform, bystander.email, MEMBER_PASSWORD);
      expect(failures).toEqual(Array(PER_ACCOUNT).fill(401));
      expect(right.status).toBe(429);
      expect(right.headers.get('content-type')).toContain(problemType);
      const retryAfter = Number(right.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(caseVariant.status).toBe(429);
      // An unknown email is throttled exactly like a real one: no way to tell them apart.
      expect(unknown).toEqual([...Array(PER_ACCOUNT).fill(401), 429]);
      expect(other.status).toBe(200);
      console.log(
        `login throttle per account (${PER_ACCOUNT}): wrong passwords ${failures.join(' ')}, then the right one ${right.status} (Retry-After ${retryAfter} s), ` +
          `upper-cased email ${caseVariant.status}; unknown email ${unknown.join(' ')}; another account ${other.status}`,
      );
    });

    it(`throttles an IP after ${PER_IP} failures over any accounts: the next login, right password and all, is 429`, async () => {
      const late = members[2]!;
      // 2 × PER_ACCOUNT failures so far from this IP.
      const more = [];
      for (let i = 0; more.length < PER_IP - 2 * PER_ACCOUNT; i++) more.push((await login(platform, `spray-${i}@security.test`, 'password-spraying')).status);
      const blocked = await login(platform, late.email, MEMBER_PASSWORD);
      expect(more.every((s) => s === 401)).toBe(true);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      console.log(`login throttle per IP (${PER_IP}): ${2 * PER_ACCOUNT + more.length} failures from one IP, then a right password for an untouched account: ${blocked.status}`);
    });

    // Only configured proxies (TRUST_PROXY) may name the client's address.
    it('a made-up X-Forwarded-For does not escape the per-IP login throttle', async () => {
      const spoofed = await login(platform, members[2]!.email, MEMBER_PASSWORD, { 'x-forwarded-for': '203.0.113.77' });
      console.log(`login throttle per IP with a made-up X-Forwarded-For: ${spoofed.status}`);
      expect(spoofed.status).toBe(429);
    });
  });

  describe('concurrent guessing', () => {
    const PER_ACCOUNT = 3;
    const GUESSES = 50;
    const platform = new Platform({ LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT), LOGIN_MAX_FAILURES_PER_IP: '100000', RATE_LIMIT_PER_IP: '100000' }, ['gateway']);
    let member: Member;

    /** The gateway's audit events of `type` about `email`, read from its outbox (kept for hours after publishing). */
    const auditRows = async (type: string, email: string): Promise<{ count: number; refusals: number }> => {
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ count: number; refusals: number }>(
          `SELECT count(*)::int AS count, coalesce(sum(coalesce((envelope->'data'->'details'->>'refusals')::int, 1)), 0)::int AS refusals
             FROM "${new Naming(platform.namespace).schema('identity')}".outbox WHERE type = $1 AND envelope->'data'->>'actorEmail' = $2`,
          [type, email],
        );
        return rows[0]!;
      } finally {
        await db.end();
      }
    };

    beforeAll(async () => {
      await platform.start();
      member = await teamWithMember(platform.api, await platform.api.login(ADMIN.email, ADMIN.password), 'concurrent');
    });

    afterAll(() => platform.stop());

    it(`${GUESSES} wrong guesses at one account at once: at most ${PER_ACCOUNT} password checks (401), the rest 429 with Retry-After, refusals audited in aggregate`, async () => {
      const answers = await Promise.all(Array.from({ length: GUESSES }, (_, i) => login(platform, member.email, `parallel-guess-${i}-xxxxx`)));
      const unauthorized = answers.filter((a) => a.status === 401).length;
      const refused = answers.filter((a) => a.status === 429);
      // Each password check writes one login.failed entry: an independent count of argon2 runs.
      const checked = await auditRows('audit.login.failed', member.email);
      const throttled = await waitFor(async () => {
        const rows = await auditRows('audit.login.throttled', member.email);
        return rows.count > 0 ? rows : undefined;
      }, { what: 'a login.throttled audit entry', timeoutMs: 10_000 });
      console.log(
        `login, ${GUESSES} concurrent wrong guesses at one account (limit ${PER_ACCOUNT}): ${unauthorized} × 401, ${refused.length} × 429, ` +
          `${answers.length - unauthorized - refused.length} other; login.failed entries ${checked.count}; login.throttled entries ${throttled.count} covering ${throttled.refusals} refusals so far`,
      );
      expect(unauthorized).toBeLessThanOrEqual(PER_ACCOUNT);
      expect(unauthorized + refused.length).toBe(GUESSES);
      expect(checked.count).toBeLessThanOrEqual(PER_ACCOUNT);
      for (const r of refused) {
        expect(r.headers.get('content-type')).toContain(problemType);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // Aggregated: not one database write per refusal.
      expect(throttled.count).toBeLessThanOrEqual(3);
    });

    it(`a success resets the account's count: ${PER_ACCOUNT - 1} failures, the right password, then ${PER_ACCOUNT} failures more before 429`, async () => {
      const admin = await platform.api.login(ADMIN.email, ADMIN.password);
      const other = await teamWithMember(platform.api, admin, 'forgetful');
      const statuses: number[] = [];
      for (let i = 0; i < PER_ACCOUNT - 1; i++) statuses.push((await login(platform, other.email, `typo-${i}-xxxxxxxx`)).status);
      statuses.push((await login(platform, other.email, MEMBER_PASSWORD)).status);
      for (let i = 0; i < PER_ACCOUNT + 1; i++) statuses.push((await login(platform, other.email, `typo-again-${i}-xxxx`)).status);
      console.log(`login after a success: ${statuses.join(' ')}`);
      expect(statuses).toEqual([...Array(PER_ACCOUNT - 1).fill(401), 200, ...Array(PER_ACCOUNT).fill(401), 429]);
    });
  });

  describe('answer timing and password hashing', () => {
    const ROUNDS = 20;
    const platform = new Platform({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000', LOGIN_MAX_FAILURES_PER_IP: '100000', RATE_LIMIT_PER_IP: '100000' }, ['gateway']);
    let member: Member;

    beforeAll(async () => {
      await platform.start();
      member = await teamWithMember(platform.api, await platform.api.login(ADMIN.email, ADMIN.password), 'timed');
    });

    afterAll(() => platform.stop());

    it(`takes about as long for an unknown email as for a wrong password (means of ${ROUNDS} each)`, async () => {
      // Warm-up: the decoy hash of unknown emails is computed on first use.
      await login(platform, 'warm-up@security.test', 'warm-up-password');
      await login(platform, member.email, 'warm-up-password');
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const a = await login(platform, `unknown-${i}@security.test`, `guess-${i}-password`);
        const b = await login(platform, member.email, `guess-${i}-password`);
        expect([a.status, b.status]).toEqual([401, 401]);
        expect((a.json as { detail: string }).detail).toBe((b.json as { detail: string }).detail);
        unknown.push(a.ms);
        wrong.push(b.ms);
      }
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
      const [mu, mw] = [mean(unknown), mean(wrong)];
      const ratio = Math.max(mu, mw) / Math.min(mu, mw);
      console.log(`login timing: unknown email ${mu.toFixed(1)} ms, wrong password ${mw.toFixed(1)} ms (means of ${ROUNDS}); ratio ${ratio.toFixed(2)}`);
      // A security property, not a performance bar: a hash skipped for unknown emails would be ~10x apart.
      expect(ratio).toBeLessThan(3);
    });

    it('stores passwords as argon2id hashes, never as given', async () => {
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ email: string; password_hash: string }>(`SELECT email, password_hash FROM "${new Naming(platform.namespace).schema('identity')}".users`);
        expect(rows.length).toBeGreaterThanOrEqual(2);
        for (const row of rows) {
          expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$[mtp=\d,]+\$/);
          expect(row.password_hash).not.toContain(MEMBER_PASSWORD);
          expect(row.password_hash).not.toContain(ADMIN.password);
        }
        const [, , , params] = rows[0]!.password_hash.split('$');
        console.log(`password hashes: ${rows.length} users, all argon2id (${params})`);
      } finally {
        await db.end();
      }
    });
  });
});
