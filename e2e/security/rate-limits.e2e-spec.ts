import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { JWT_AUDIENCE, JWT_ISSUER } from '@flotilla/auth';
import { TEST_DATABASE_URL } from '@flotilla/testing';
import { ADMIN, Platform } from '../support/platform.js';
import { send } from '../fuzz/support/http.js';
import { teamWithMember, type Member } from './support/fixtures.js';

const problemType = 'application/problem+json';

/** The request limits: per user and per IP, each a fixed window, answered 429 with Retry-After. */
describe('rate limits', () => {
  describe('per user', () => {
    const WINDOW = 6;
    const PER_USER = 5;
    const platform = new Platform({ RATE_LIMIT_PER_USER: String(PER_USER), RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_WINDOW_SECONDS: String(WINDOW) }, ['gateway']);
    let first: Member;
    let second: Member;

    beforeAll(async () => {
      await platform.start();
      const admin = await platform.api.login(ADMIN.email, ADMIN.password);
      // Two requests of the admin's budget each.
      first = await teamWithMember(platform.api, admin, 'limited-one');
      second = await teamWithMember(platform.api, admin, 'limited-two');
    });

    afterAll(() => platform.stop());

    it(`answers 429 with Retry-After to a user past ${PER_USER} requests in the window, while another user on the same IP goes on, and lets the user back after Retry-After`, async () => {
      const statuses: number[] = [];
      let refusal: Awaited<ReturnType<typeof send>> | undefined;
      for (let i = 0; i < PER_USER + 3; i++) {
        const res = await send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token: first.token });
        statuses.push(res.status);
        if (res.status === 429) refusal ??= res;
      }
      const other = await send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token: second.token });
      expect(statuses.slice(0, PER_USER).every((s) => s === 200)).toBe(true);
      expect(statuses.slice(PER_USER)).toEqual([429, 429, 429]);
      expect(refusal!.headers.get('content-type')).toContain(problemType);
      const retryAfter = Number(refusal!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW);
      expect(other.status).toBe(200);
      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 500));
      const after = await send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token: first.token });
      expect(after.status).toBe(200);
      console.log(`rate limit per user (${PER_USER}/${WINDOW} s): sent ${statuses.length}, answered ${statuses.join(' ')}; Retry-After ${retryAfter} s; the other user on the same IP ${other.status}; after waiting ${after.status}`);
    }, 30_000);
  });

  describe('per IP', () => {
    const PER_IP = 15;
    const platform = new Platform({ RATE_LIMIT_PER_USER: '100000', RATE_LIMIT_PER_IP: String(PER_IP), RATE_LIMIT_WINDOW_SECONDS: '60', LOGIN_MAX_FAILURES_PER_IP: '100000' }, ['gateway']);

    let token: string;

    beforeAll(() => platform.start());
    afterAll(() => platform.stop());

    it(`answers 429 with Retry-After to every caller from an IP past ${PER_IP} requests, anonymous or not`, async () => {
      // The login counts too: the public routes are limited per IP.
      token = await platform.api.login(ADMIN.email, ADMIN.password);
      const statuses: number[] = [];
      let refusal: Awaited<ReturnType<typeof send>> | undefined;
      for (let i = 0; i < PER_IP + 5; i++) {
        const res =
          i % 2 === 0
            ? await send(platform.gateway.url, { method: 'POST', url: '/api/v1/auth/refresh', body: JSON.stringify({ refreshToken: 'not-a-token' }), contentType: 'application/json' })
            : await send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token });
        statuses.push(res.status);
        if (res.status === 429) refusal ??= res;
      }
      const allowed = statuses.filter((s) => s !== 429).length;
      // The login was one of the budget (and the start-up's health probe may have been another).
      expect(allowed).toBeLessThanOrEqual(PER_IP - 1);
      expect(allowed).toBeGreaterThanOrEqual(PER_IP - 2);
      expect(statuses.slice(allowed).every((s) => s === 429)).toBe(true);
      expect(refusal!.headers.get('content-type')).toContain(problemType);
      const retryAfter = Number(refusal!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const login = await send(platform.gateway.url, { method: 'POST', url: '/api/v1/auth/login', body: JSON.stringify(ADMIN), contentType: 'application/json' });
      expect(login.status).toBe(429);
      // Probes and scrapes are not API traffic: an exhausted IP must not fail the orchestrator's checks.
      const probes = await Promise.all(['/health/live', '/health/ready', '/health/startup', '/metrics'].map(async (url) => [url, (await send(platform.gateway.url, { method: 'GET', url })).status] as const));
      console.log(`rate limit per IP: health and metrics from the exhausted IP → ${probes.map(([u, s]) => `${u} ${s}`).join(', ')}`);
      expect(probes.filter(([, s]) => s !== 200)).toEqual([]);
      console.log(`rate limit per IP (${PER_IP}/60 s): sent ${statuses.length + 2}, ${allowed + 1} answered, ${statuses.length - allowed + 1} refused with 429; Retry-After ${retryAfter} s`);
    });

    // Only configured proxies (TRUST_PROXY) may name the client's address.
    it('an X-Forwarded-For header made up by the client does not get a fresh per-IP budget', async () => {
      const spoofed = await send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token, headers: { 'x-forwarded-for': '198.51.100.23' } });
      console.log(`rate limit per IP with a made-up X-Forwarded-For: ${spoofed.status}`);
      expect(spoofed.status).toBe(429);
    });
  });

  describe('floods before authentication', () => {
    const PER_IP = 20;
    const FLOOD = 2 * PER_IP + 10;
    const platform = new Platform({ RATE_LIMIT_PER_USER: '100000', RATE_LIMIT_PER_IP: String(PER_IP), RATE_LIMIT_WINDOW_SECONDS: '60' }, ['gateway']);

    beforeAll(() => platform.start());
    afterAll(() => platform.stop());

    it(`${FLOOD} requests with a bad token from one IP at once: 429 (problem+json, Retry-After) once ${PER_IP} are passed, on the API and on the vote route alike; health and metrics stay unthrottled`, async () => {
      const bad = 'not.a.token';
      const flood = await Promise.all(
        Array.from({ length: FLOOD }, (_, i) =>
          i % 2 === 0
            ? send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token: bad })
            : send(platform.gateway.url, { method: 'POST', url: '/api/v1/polls/cats-vs-dogs/votes', token: bad, body: JSON.stringify({ option: 'cats' }), contentType: 'application/json' }),
        ),
      );
      const count = (status: number) => flood.filter((r) => r.status === status).length;
      const refused = flood.filter((r) => r.status === 429);
      const votesRefused = flood.filter((r, i) => i % 2 === 1 && r.status === 429).length;
      const probes = await Promise.all(['/health/live', '/health/ready', '/metrics'].map(async (url) => [url, (await send(platform.gateway.url, { method: 'GET', url })).status] as const));
      console.log(
        `bad-token flood from one IP (limit ${PER_IP}): sent ${FLOOD} at once, ${count(401)} × 401, ${refused.length} × 429 (${votesRefused} of them on the vote route), ` +
          `${FLOOD - count(401) - refused.length} other; then ${probes.map(([u, st]) => `${u} ${st}`).join(', ')}`,
      );
      expect(count(401)).toBeLessThanOrEqual(PER_IP);
      expect(count(401) + refused.length).toBe(FLOOD);
      expect(votesRefused).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.headers.get('content-type')).toContain(problemType);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(probes.filter(([, st]) => st !== 200)).toEqual([]);
    });
  });

  describe('a well-signed token of an unknown user', () => {
    const WAVES = 10;
    const PER_WAVE = 20;
    const platform = new Platform({ RATE_LIMIT_PER_USER: '100000', RATE_LIMIT_PER_IP: '100000' }, ['gateway']);

    beforeAll(() => platform.start());
    afterAll(() => platform.stop());

    /** Scans of the gateway's users table so far, as Postgres counts them (its statistics, not the gateway's word). */
    const userScans = async (): Promise<number> => {
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ scans: number }>(
          `SELECT (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::int AS scans FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'users'`,
          [new Naming(platform.namespace).schema('identity')],
        );
        return rows[0]!.scans;
      } finally {
        await db.end();
      }
    };
    // A backend reports its table statistics when idle, at the latest some 10 s after the fact.
    const statsSettled = () => new Promise((r) => setTimeout(r, 11_500));

    it(`${WAVES} waves of ${PER_WAVE} requests: all 401, and Postgres is asked about the user at most a few times`, async () => {
      const token = jwt.sign({ sub: randomUUID(), email: 'ghost@security.test', role: 'member', teamId: null }, 'e2e-jwt-secret-that-is-long-enough-0123456789', {
        algorithm: 'HS256',
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        expiresIn: 600,
      });
      await statsSettled();
      const before = await userScans();
      const statuses: number[] = [];
      for (let wave = 0; wave < WAVES; wave++) {
        const answers = await Promise.all(Array.from({ length: PER_WAVE }, () => send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token })));
        statuses.push(...answers.map((a) => a.status));
      }
      await statsSettled();
      const scans = (await userScans()) - before;
      console.log(`unknown-user token flood: ${statuses.length} requests in ${WAVES} waves, ${statuses.filter((st) => st === 401).length} × 401; scans of the users table ${scans}`);
      expect(statuses.every((st) => st === 401)).toBe(true);
      expect(scans).toBeLessThanOrEqual(3);
    }, 60_000);
  });
});
