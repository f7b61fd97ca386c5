import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const problemType = 'application/problem+json';

/** Signs a token by hand, to craft the attacks a real client library would refuse to make. */
function forge(header: object, claims: object, secret: string): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/**
 * POSTs `body` the way a careful client does with a large body: the headers first, the body
 * only if no answer came within a few seconds. A body over the limit is refused from its
 * Content-Length alone, so the answer arrives before any of the body is sent. (fetch sends
 * headers and body at once; the server then closes with the body unread and the answer is
 * often lost to EPIPE or a reset, more so on a busy machine.)
 */
function postEarlyAnswer(url: string, body: string): Promise<{ status: number; contentType: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      clearTimeout(sendBody);
      res.resume();
      resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? '') });
      req.destroy();
    });
    const sendBody = setTimeout(() => req.end(body), 5000);
    req.on('error', (error) => {
      clearTimeout(sendBody);
      reject(error);
    });
    req.flushHeaders();
  });
}

describe('gateway: auth, admin, errors, edge', () => {
  const platform = new Platform({ RATE_LIMIT_PER_IP: '100000', LOGIN_MAX_FAILURES_PER_IP: '1000' });
  let adminToken: string;
  let memberToken: string;
  let memberId: string;
  let teamId: string;

  beforeAll(async () => {
    await platform.start();
    adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: adminToken, body: { name: 'team-alpha' } });
    expect(team.status).toBe(201);
    teamId = team.body.id;
    const member = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/users', {
      token: adminToken,
      body: { email: 'member@alpha.test', password: 'member-password-123', teamId, role: 'member' },
    });
    expect(member.status).toBe(201);
    memberId = member.body.id;
    memberToken = await platform.api.login('member@alpha.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  describe('login', () => {
    it('returns a token pair for the configured admin', async () => {
      const res = await platform.api.request('POST', '/api/v1/auth/login', { body: ADMIN });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(typeof res.body.accessToken).toBe('string');
      expect(typeof res.body.refreshToken).toBe('string');
    });

    it('answers 401 alike for a wrong password and an unknown email', async () => {
      const wrong = await platform.api.request('POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: 'not-the-password' } });
      const unknown = await platform.api.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@e2e.test', password: 'not-the-password' } });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.headers.get('content-type')).toContain(problemType);
      expect(wrong.body.detail).toBe(unknown.body.detail);
    });

    it('me describes the caller and its team', async () => {
      const res = await platform.api.request('GET', '/api/v1/auth/me', { token: memberToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: memberId, email: 'member@alpha.test', role: 'member', team: { id: teamId, name: 'team-alpha' } });
    });
  });

  describe('tokens', () => {
    const secret = 'e2e-jwt-secret-that-is-long-enough-0123456789';
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: '00000000-0000-4000-8000-000000000001', email: 'x@e2e.test', role: 'admin', teamId: null, iss: 'flotilla', aud: 'flotilla-api' };

    it.each([
      ['no token', undefined],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + 600 })}.`],
      ['a wrong signature', forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now, exp: now + 600 }, 'another-secret-of-sufficient-length-0000')],
      ['an expired token', forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 }, secret)],
      ['garbage', 'not.a.token'],
    ])('refuses %s with 401 problem+json', async (_, token) => {
      const res = await platform.api.request('GET', '/api/v1/auth/me', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain(problemType);
    });

    it('rotates refresh tokens and revokes the family when one is reused', async () => {
      const first = await platform.api.request<{ refreshToken: string }>('POST', '/api/v1/auth/login', { body: ADMIN });
      const second = await platform.api.request<{ refreshToken: string }>('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
      expect(second.status).toBe(200);
      expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
      const reuse = await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
      expect(reuse.status).toBe(401);
      // The reuse revoked the newer token of the same family too.
      const after = await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: second.body.refreshToken } });
      expect(after.status).toBe(401);
      // The reuse also ended the admin's access tokens: the tests below need a new one.
      adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    });

    it('logout revokes the refresh token', async () => {
      const login = await platform.api.request<{ refreshToken: string }>('POST', '/api/v1/auth/login', { body: ADMIN });
      expect((await platform.api.request('POST', '/api/v1/auth/logout', { body: { refreshToken: login.body.refreshToken } })).status).toBe(204);
      expect((await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } })).status).toBe(401);
      // Logout also ended the admin's access tokens: the tests below need a new one.
      adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    });
  });

  describe('admin routes', () => {
    it('answer 403 to members', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/admin/teams'],
        ['POST', '/api/v1/admin/teams'],
        ['GET', '/api/v1/admin/users'],
        ['POST', '/api/v1/admin/users'],
        ['POST', '/api/v1/polls'],
      ] as const) {
        const res = await platform.api.request(method, path, { token: memberToken, body: method === 'POST' ? {} : undefined });
        expect([method, path, res.status]).toEqual([method, path, 403]);
      }
    });

    it('refuses duplicates with 409 and short passwords with 400', async () => {
      expect((await platform.api.request('POST', '/api/v1/admin/teams', { token: adminToken, body: { name: 'team-alpha' } })).status).toBe(409);
      const dupUser = await platform.api.request('POST', '/api/v1/admin/users', {
        token: adminToken,
        body: { email: 'MEMBER@alpha.test', password: 'member-password-123', teamId, role: 'member' },
      });
      expect(dupUser.status).toBe(409);
      const short = await platform.api.request('POST', '/api/v1/admin/users', {
        token: adminToken,
        body: { email: 'short@alpha.test', password: 'short', teamId, role: 'member' },
      });
      expect(short.status).toBe(400);
      expect(short.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'password' })]));
    });

    it('pages through teams with a cursor', async () => {
      for (const name of ['team-b', 'team-c', 'team-d']) {
        await platform.api.request('POST', '/api/v1/admin/teams', { token: adminToken, body: { name } });
      }
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await platform.api.request<{ items: { name: string }[]; nextCursor: string | null }>('GET', `/api/v1/admin/teams${query}`, { token: adminToken });
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        names.push(...page.body.items.map((t) => t.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(names).toEqual(['team-alpha', 'team-b', 'team-c', 'team-d']);
    });
  });

  describe('bad input', () => {
    it('malformed JSON → 400 problem+json', async () => {
      const res = await platform.api.request('POST', '/api/v1/auth/login', { rawBody: '{"email": ' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain(problemType);
      expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', instance: '/api/v1/auth/login' });
    });

    it('unknown fields → 400 naming the field', async () => {
      const res = await platform.api.request('POST', '/api/v1/auth/login', { body: { ...ADMIN, isAdmin: true } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toContain('isAdmin');
    });

    it('wrong types → 400', async () => {
      const res = await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token: memberToken, body: { option: 42 } });
      expect(res.status).toBe(400);
    });

    it('a body over the limit → 413', async () => {
      const body = JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(2 * 1024 * 1024) });
      const res = await postEarlyAnswer(`${platform.api.baseUrl}/api/v1/auth/login`, body);
      expect(res.status).toBe(413);
      expect(res.contentType).toContain(problemType);
    });

    it('a bad cursor or limit → 400, an unknown route → 404, both problem+json', async () => {
      expect((await platform.api.request('GET', '/api/v1/admin/teams?cursor=%%%', { token: adminToken })).status).toBe(400);
      expect((await platform.api.request('GET', '/api/v1/admin/teams?limit=-5', { token: adminToken })).status).toBe(400);
      const missing = await platform.api.request('GET', '/api/v1/nowhere', { token: adminToken });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain(problemType);
    });
  });

  describe('edge', () => {
    it('sets security headers and X-Request-Id on every answer', async () => {
      const res = await platform.api.request('GET', '/api/v1/auth/me', { token: memberToken, headers: { 'x-request-id': 'trace-me-123' } });
      expect(res.headers.get('x-request-id')).toBe('trace-me-123');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const anonymous = await platform.api.request('GET', '/api/v1/auth/me');
      expect(anonymous.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('serves the OpenAPI document with the auth routes', async () => {
      const res = await platform.api.request<{ paths: Record<string, unknown> }>('GET', '/api/openapi.json');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/polls/{pollId}/votes']));
    });

    it('logs each request to the requests stream without secrets', async () => {
      await platform.api.request('POST', '/api/v1/auth/login', { body: ADMIN, headers: { 'x-request-id': 'log-check-1' } });
      const redis = new Redis(TEST_REDIS_URL);
      try {
        let entry: string[] | undefined;
        for (let i = 0; i < 50 && !entry; i++) {
          const entries = await redis.xrevrange(`${platform.namespace}:requests`, '+', '-', 'COUNT', 200);
          entry = entries.map(([, f]) => f).find((f) => f.includes('log-check-1'));
          if (!entry) await new Promise((r) => setTimeout(r, 100));
        }
        expect(entry).toBeDefined();
        const fields = Object.fromEntries((entry ?? []).reduce<string[][]>((acc, v, i) => (i % 2 ? acc[acc.length - 1]!.push(v) : acc.push([v]), acc), []));
        expect(fields).toMatchObject({ method: 'POST', route: '/api/v1/auth/login', status: '200' });
        expect(JSON.stringify(entry)).not.toContain(ADMIN.password);
      } finally {
        redis.disconnect();
      }
    });

    it('metrics count requests by route and health is ready', async () => {
      const metrics = async (): Promise<number> => {
        const text = await (await fetch(`${platform.gateway.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith('http_requests_total{') && l.includes('route="/api/v1/auth/me"') && l.includes('status="200"'));
        return line ? Number(line.split(' ').pop()) : 0;
      };
      const before = await metrics();
      await platform.api.request('GET', '/api/v1/auth/me', { token: memberToken });
      await platform.api.request('GET', '/api/v1/auth/me', { token: memberToken });
      expect(await metrics()).toBe(before + 2);
      const ready = await fetch(`${platform.gateway.url}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { details: Record<string, { status: string }> };
      expect(Object.keys(body.details).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
    });
  });
});
