import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ADMIN, Platform, type ApiClient } from '../support/platform.js';
import { claimsOf, forge } from './support/jwt.js';

/** What API.md promises: a revoked access token stops working within this, on every gateway replica. */
const REVOKED_WITHIN_MS = 5000;
const PASSWORD = 'revocation-password-123';
const problemType = 'application/problem+json';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

/**
 * Revocation seen from outside, with two gateway instances: a token is obtained and used
 * on one (so that instance has the token and its user in its caches), the revoking action
 * goes to the other, and the first must refuse the token within 5 s.
 */
describe('security: revocation of access tokens on every replica', () => {
  const platform = new Platform(
    { RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_USER: '1000000', LOGIN_MAX_FAILURES_PER_IP: '100000' },
    // The console's event stream asks the admin service for figures, which reads the validator's queue.
    ['gateway', 'admin', 'validator'],
    { replicas: 2, startTimeoutMs: 120_000 },
  );
  let one: ApiClient;
  let two: ApiClient;
  let adminToken: string;
  let teamId: string;
  const timings: string[] = [];

  beforeAll(async () => {
    await platform.start();
    [one, two] = platform.apis as [ApiClient, ApiClient];
    adminToken = await one.login(ADMIN.email, ADMIN.password);
    const team = await one.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: adminToken, body: { name: 'revocation' } });
    teamId = team.body.id;
  }, 180_000);

  afterAll(async () => {
    console.log(`revocation, two gateways (revoked on #1, refused on #2):\n  ${timings.join('\n  ')}`);
    await platform.stop();
  });

  const login = async (api: ApiClient, email: string, password = PASSWORD): Promise<Pair> => {
    const res = await api.request<Pair>('POST', '/api/v1/auth/login', { body: { email, password } });
    if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const user = async (name: string, role: 'admin' | 'member' = 'member'): Promise<{ id: string; email: string }> => {
    const email = `${name}-${randomUUID().slice(0, 8)}@revocation.test`;
    const res = await one.request<{ id: string }>('POST', '/api/v1/admin/users', { token: adminToken, body: { email, password: PASSWORD, role, ...(role === 'member' ? { teamId } : {}) } });
    if (res.status !== 201) throw new Error(`user ${email}: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id, email };
  };

  /**
   * What the gateway answers a token with, on a route that reads nothing about the user
   * (unlike `/auth/me`, which would say 401 for a deleted user by itself): the status of a
   * dataset id that cannot exist, 404 once the token is accepted, 401 when it is refused.
   */
  const me = async (api: ApiClient, token: string): Promise<number> => {
    const status = (await api.request('GET', '/api/v1/validation/no-such-dataset/status', { token })).status;
    return status === 404 ? 200 : status;
  };

  /** Polls with the token on `api` until 401; the time it took (ms), or fails after 5 s. */
  const refusedWithin = async (api: ApiClient, token: string, what: string, since: number): Promise<number> => {
    let last = 0;
    while (Date.now() - since <= REVOKED_WITHIN_MS) {
      last = await me(api, token);
      if (last === 401) {
        const took = Date.now() - since;
        timings.push(`${what}: 401 after ${took} ms`);
        return took;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    timings.push(`${what}: still ${last} after ${Date.now() - since} ms`);
    throw new Error(`${what}: the old token still answered ${last} after ${REVOKED_WITHIN_MS} ms`);
  };

  /** The token works on both instances (each has now verified it and looked its user up). */
  const warm = async (token: string): Promise<void> => {
    expect([await me(one, token), await me(two, token)]).toEqual([200, 200]);
  };

  it('refuses a token without exp, and one without iat, with 401 on both instances', async () => {
    const { email } = await user('no-exp');
    const real = claimsOf((await login(one, email)).accessToken);
    const secret = platform.env().JWT_SECRET!;
    const { exp: _exp, ...noExp } = real;
    const { iat: _iat, ...noIat } = real;
    const statuses = {
      noExp: [await me(one, forge({ alg: 'HS256', typ: 'JWT' }, noExp, secret)), await me(two, forge({ alg: 'HS256', typ: 'JWT' }, noExp, secret))],
      noIat: [await me(one, forge({ alg: 'HS256', typ: 'JWT' }, noIat, secret)), await me(two, forge({ alg: 'HS256', typ: 'JWT' }, noIat, secret))],
      // The same claims with exp, re-signed: accepted, so the refusals above are for the missing claim.
      control: await me(two, forge({ alg: 'HS256', typ: 'JWT' }, real, secret)),
    };
    expect(statuses).toEqual({ noExp: [401, 401], noIat: [401, 401], control: 200 });
  });

  it('logout: the access token is refused on the other instance within 5 s; a new login works at once', async () => {
    const { email } = await user('logout');
    const pair = await login(two, email);
    await warm(pair.accessToken);
    const out = await one.request('POST', '/api/v1/auth/logout', { body: { refreshToken: pair.refreshToken } });
    expect(out.status).toBe(204);
    await refusedWithin(two, pair.accessToken, 'logout', Date.now());
    expect(await me(one, pair.accessToken)).toBe(401);
    // Logged in again in the same second: the new token is not caught by the revocation.
    const again = await login(one, email);
    expect([await me(one, again.accessToken), await me(two, again.accessToken)]).toEqual([200, 200]);
  });

  it('refresh-token reuse: the access tokens of the session are refused on the other instance within 5 s', async () => {
    const { email } = await user('reuse');
    const first = await login(two, email);
    const rotated = await two.request<Pair>('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(rotated.status).toBe(200);
    await warm(first.accessToken);
    await warm(rotated.body.accessToken);
    const replay = await one.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(replay.status).toBe(401);
    const since = Date.now();
    await refusedWithin(two, rotated.body.accessToken, 'refresh reuse (newest access token)', since);
    await refusedWithin(two, first.accessToken, 'refresh reuse (first access token)', since);
  });

  it('role change (PATCH): a token carrying the old role is refused on the other instance within 5 s; the refreshed one carries the new role', async () => {
    const promoted = await user('promoted');
    const pair = await login(two, promoted.email);
    await warm(pair.accessToken);
    expect((await two.request('GET', '/api/v1/admin/users', { token: pair.accessToken })).status).toBe(403);
    const patched = await one.request<{ role: string }>('PATCH', `/api/v1/admin/users/${promoted.id}`, { token: adminToken, body: { role: 'admin' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: promoted.id, role: 'admin' });
    await refusedWithin(two, pair.accessToken, 'role change member → admin', Date.now());
    const refreshed = await two.request<Pair>('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(refreshed.body.accessToken).role).toBe('admin');
    expect((await one.request('GET', '/api/v1/admin/users', { token: refreshed.body.accessToken })).status).toBe(200);

    // And down again: the admin token must not keep admin rights.
    await warm(refreshed.body.accessToken);
    const demoted = await one.request('PATCH', `/api/v1/admin/users/${promoted.id}`, { token: adminToken, body: { role: 'member', teamId } });
    expect(demoted.status).toBe(200);
    await refusedWithin(two, refreshed.body.accessToken, 'role change admin → member', Date.now());
    expect((await two.request('GET', '/api/v1/admin/users', { token: refreshed.body.accessToken })).status).toBe(401);
  });

  it('password change (PATCH): earlier tokens are refused on the other instance within 5 s; the new password logs in', async () => {
    const { id, email } = await user('password');
    const pair = await login(two, email);
    await warm(pair.accessToken);
    const patched = await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { password: 'an-entirely-new-password' } });
    expect(patched.status).toBe(200);
    await refusedWithin(two, pair.accessToken, 'password change', Date.now());
    expect((await two.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    await login(two, email, 'an-entirely-new-password');
  });

  it('disabling: the token is refused on the other instance within 5 s, and the user can neither log in nor refresh until enabled again', async () => {
    const { id, email } = await user('disabled');
    const pair = await login(two, email);
    await warm(pair.accessToken);
    const patched = await one.request<{ disabled: boolean }>('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { disabled: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.disabled).toBe(true);
    await refusedWithin(two, pair.accessToken, 'disabling', Date.now());
    expect((await two.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    expect((await two.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
    expect((await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { disabled: false } })).status).toBe(200);
    const again = await login(two, email);
    expect(await me(one, again.accessToken)).toBe(200);
  });

  it('deleting: access and refresh tokens are refused on the other instance within 5 s; the audit keeps the user', async () => {
    const { id, email } = await user('deleted');
    const pair = await login(two, email);
    await warm(pair.accessToken);
    const removed = await one.request('DELETE', `/api/v1/admin/users/${id}`, { token: adminToken });
    expect(removed.status).toBe(204);
    await refusedWithin(two, pair.accessToken, 'deleting', Date.now());
    expect((await two.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
    expect((await two.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    expect((await one.request('DELETE', `/api/v1/admin/users/${id}`, { token: adminToken })).status).toBe(404);
    const audit = await waitForAudit(one, adminToken, `user:${id}`, 'user.deleted');
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['user.created', 'login.succeeded', 'user.deleted']));
  });

  it('an open event stream closes when its token is revoked, on the other instance', async () => {
    const { email } = await user('stream-revoked', 'admin');
    const pair = await login(one, email);
    const stream = await openStream(two, pair.accessToken);
    expect(await stream.openFor(1500)).toBe(true);
    expect((await one.request('POST', '/api/v1/auth/logout', { body: { refreshToken: pair.refreshToken } })).status).toBe(204);
    const since = Date.now();
    const closed = await stream.closedWithin(REVOKED_WITHIN_MS);
    timings.push(`event stream, logout: ${closed ? `closed after ${Date.now() - since} ms` : 'still open after 5 s'}`);
    expect(closed).toBe(true);
  });

  it('an open event stream closes at its token expiry', async () => {
    const { email } = await user('stream-expiry', 'admin');
    const real = claimsOf((await login(one, email)).accessToken);
    const exp = Math.floor(Date.now() / 1000) + 3;
    const shortLived = forge({ alg: 'HS256', typ: 'JWT' }, { ...real, exp }, platform.env().JWT_SECRET!);
    const stream = await openStream(two, shortLived);
    const closed = await stream.closedWithin(exp * 1000 - Date.now() + 2000);
    timings.push(`event stream, expiry: ${closed ? `closed ${Date.now() - exp * 1000} ms after exp` : 'still open 2 s after exp'}`);
    expect(closed).toBe(true);
  });

  describe('PATCH and DELETE /admin/users/{id}', () => {
    it('answer 403 to members, 404 for an unknown id, 400 problem+json for bad bodies', async () => {
      const { email, id } = await user('answers');
      const member = await login(one, email);
      const statuses = {
        memberPatch: (await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: member.accessToken, body: { role: 'admin' } })).status,
        memberDelete: (await one.request('DELETE', `/api/v1/admin/users/${id}`, { token: member.accessToken })).status,
        unknownPatch: (await one.request('PATCH', `/api/v1/admin/users/${randomUUID()}`, { token: adminToken, body: { disabled: true } })).status,
        unknownDelete: (await one.request('DELETE', `/api/v1/admin/users/${randomUUID()}`, { token: adminToken })).status,
        notAnId: (await one.request('DELETE', '/api/v1/admin/users/not-an-id', { token: adminToken })).status,
        unknownTeam: (await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { teamId: randomUUID() } })).status,
      };
      expect(statuses).toEqual({ memberPatch: 403, memberDelete: 403, unknownPatch: 404, unknownDelete: 404, notAnId: 404, unknownTeam: 404 });
      for (const body of [{}, { role: 'root' }, { disabled: 'yes' }, { password: 'short' }, { teamId: 'nope' }, { email: 'x@y.z' }, []]) {
        const res = await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body });
        expect({ body, status: res.status, type: res.headers.get('content-type') }).toEqual({ body, status: 400, type: expect.stringContaining(problemType) });
      }
      // Well-formed but not possible: a member without a team.
      const teamless = await one.request('PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { teamId: null } });
      expect({ status: teamless.status, type: teamless.headers.get('content-type') }).toEqual({ status: 422, type: expect.stringContaining(problemType) });
      // Nothing of the refused requests changed the user.
      expect(await me(two, member.accessToken)).toBe(200);
    });

    it('refuse with 409 to demote, disable or delete the last active admin', async () => {
      const admins = await one.request<{ items: { id: string; role: string; disabled?: boolean }[] }>('GET', '/api/v1/admin/users?limit=200', { token: adminToken });
      const active = admins.body.items.filter((u) => u.role === 'admin' && !u.disabled);
      // Leave only the seeded admin active.
      const self = claimsOf(adminToken).sub as string;
      for (const other of active.filter((u) => u.id !== self)) {
        expect((await one.request('PATCH', `/api/v1/admin/users/${other.id}`, { token: adminToken, body: { disabled: true } })).status).toBe(200);
      }
      const statuses = {
        demote: (await one.request('PATCH', `/api/v1/admin/users/${self}`, { token: adminToken, body: { role: 'member', teamId } })).status,
        disable: (await one.request('PATCH', `/api/v1/admin/users/${self}`, { token: adminToken, body: { disabled: true } })).status,
        remove: (await one.request('DELETE', `/api/v1/admin/users/${self}`, { token: adminToken })).status,
      };
      expect(statuses).toEqual({ demote: 409, disable: 409, remove: 409 });
      expect(await me(two, adminToken)).toBe(200);
    });

    // Runs last: the seeded admin may end up disabled.
    it('50 concurrent disables of every admin, on both instances, leave exactly one active admin (no deadlock, no 5xx)', async () => {
      const others = await Promise.all([1, 2, 3, 4].map((i) => user(`race-admin-${i}`, 'admin')));
      const self = claimsOf(adminToken).sub as string;
      const targets = [self, ...others.map((o) => o.id)];
      const statuses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? one : two).request('PATCH', `/api/v1/admin/users/${targets[i % targets.length]}`, { token: adminToken, body: { disabled: true } }).then((r) => r.status)),
      );
      const tally = statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});
      // Whoever is left can log in; everyone else cannot.
      const logins = await Promise.all(
        [{ email: ADMIN.email, password: ADMIN.password }, ...others.map((o) => ({ email: o.email, password: PASSWORD }))].map((c) => one.request('POST', '/api/v1/auth/login', { body: c }).then((r) => r.status)),
      );
      timings.push(`50 concurrent disables of 5 admins: ${JSON.stringify(tally)}; logins afterwards ${JSON.stringify(logins)}`);
      expect(statuses.filter((s) => s >= 500)).toEqual([]);
      expect(tally[409]).toBeGreaterThan(0);
      expect(logins.filter((s) => s === 200)).toHaveLength(1);
      expect(logins.filter((s) => s === 401)).toHaveLength(4);
    });
  });

  async function waitForAudit(api: ApiClient, token: string, target: string, action: string): Promise<{ action: string }[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await api.request<{ items: { action: string; target: string | null; actorId: string | null }[] }>('GET', `/api/v1/admin/audit?limit=200`, { token });
      const about = (res.body.items ?? []).filter((e) => e.target === target || e.actorId === target.slice('user:'.length));
      if (about.some((e) => e.action === action) || Date.now() > deadline) return about;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
});

/** `GET /admin/events` opened with fetch, read as it arrives. */
async function openStream(api: ApiClient, token: string): Promise<{ openFor(ms: number): Promise<boolean>; closedWithin(ms: number): Promise<boolean> }> {
  const res = await fetch(`${api.baseUrl}/api/v1/admin/events`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let ended = false;
  const done = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // a reset connection ends the stream too
    }
    ended = true;
  })();
  const within = (ms: number): Promise<boolean> => Promise.race([done.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(ended), Math.max(ms, 0)))]);
  return {
    openFor: async (ms) => !(await within(ms)),
    closedWithin: async (ms) => {
      const closed = await within(ms);
      if (!closed) await reader.cancel().catch(() => undefined);
      return closed;
    },
  };
}
