import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
});
