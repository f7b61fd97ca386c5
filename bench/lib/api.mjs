// A client of the public API as a user would write one: plain fetch, JSON in and out.
import { mapLimit } from './stats.mjs';

export class ApiError extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

export class Api {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }

  /** Resolves with `{status, headers, body}` whatever the status. */
  async request(method, path, { token, body, headers = {} } = {}) {
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** Like {@link request}, but throws unless the status is one of `expect`. */
  async call(method, path, options = {}, expect = [200, 201, 202, 204]) {
    const res = await this.request(method, path, options);
    if (!expect.includes(res.status)) throw new ApiError(method, path, res.status, res.body);
    return res.body;
  }

  async login(email, password) {
    return (await this.call('POST', '/auth/login', { body: { email, password } }, [200])).accessToken;
  }

  /**
   * Creates `teams` teams with one member each (through the admin API) and logs each in.
   * Resolves with `[{teamId, email, token}]`. Passwords are hashed with argon2 on both
   * calls, so this runs a few at a time.
   */
  async teamsWithMembers(adminToken, prefix, teams, password = 'bench-member-password') {
    return mapLimit(Array.from({ length: teams }, (_, i) => i), 4, async (i) => {
      const team = await this.call('POST', '/admin/teams', { token: adminToken, body: { name: `${prefix}-${i}` } });
      const email = `${prefix}-${i}@bench.local`;
      await this.call('POST', '/admin/users', { token: adminToken, body: { email, password, teamId: team.id, role: 'member' } });
      return { teamId: team.id, email, token: await this.login(email, password) };
    });
  }

  /** `count` members of one team, logged in. */
  async membersOfOneTeam(adminToken, prefix, count, password = 'bench-member-password') {
    const team = await this.call('POST', '/admin/teams', { token: adminToken, body: { name: prefix } });
    return mapLimit(Array.from({ length: count }, (_, i) => i), 4, async (i) => {
      const email = `${prefix}-${i}@bench.local`;
      await this.call('POST', '/admin/users', { token: adminToken, body: { email, password, teamId: team.id, role: 'member' } });
      return { teamId: team.id, email, token: await this.login(email, password) };
    });
  }
}
