import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { postgres, rabbitmq, redis, report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: Redis, Postgres or RabbitMQ hanging (SIGSTOP), not down — callers get
 * 503/504 within their timeouts; nothing waits for ever; work resumes on SIGCONT. A
 * frozen server keeps its connections open and answers nothing, which no "connection
 * refused" handling catches: only timeouts end the wait. Each of the suite's own
 * servers is frozen in turn while requests flow.
 */
const HANG_MS = 15_000;
const TIMEOUTS = { REDIS_COMMAND_TIMEOUT_MS: '1000', RPC_TIMEOUT_MS: '3000', DATABASE_STATEMENT_TIMEOUT_MS: '3000' };
/** The longest configured timeout, and some slack for the answer to travel back. */
const ANSWER_WITHIN_MS = 3000 + 2000;
/** A request still unanswered after this is taken to wait for ever. */
const FOREVER_MS = 60_000;

interface Call {
  route: string;
  status: number;
  ms: number;
  during: boolean;
  voteId?: string;
}

describe('fault: a dependency hanging (SIGSTOP), not down', () => {
  const platform = new Platform(
    { ...TIMEOUTS, RATE_LIMIT_PER_USER: '1000000', RATE_LIMIT_PER_IP: '100000000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000', LOGIN_MAX_FAILURES_PER_IP: '100000', VOTE_CLAIM_IDLE_MS: '2000' },
    ['gateway', 'vote-consumer', 'upload'],
  );
  let token: string;
  let admin: string;

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'frozen' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'h@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('h@chaos.test', 'member-password-123');
  }, 180_000);

  afterAll(() => platform.stop());

  /** One request with the client's own limit: status 0 when it failed, -1 when it waited FOREVER_MS. */
  async function call(method: string, route: string, body?: unknown, auth = token): Promise<{ status: number; ms: number; body: Record<string, unknown> }> {
    const started = Date.now();
    try {
      const res = await fetch(`${platform.gateway.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(FOREVER_MS),
      });
      const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      return { status: res.status, ms: Date.now() - started, body: parsed };
    } catch (error) {
      return { status: (error as Error).name === 'TimeoutError' ? -1 : 0, ms: Date.now() - started, body: {} };
    }
  }

  const routes = {
    vote: async () => call('POST', '/api/v1/polls/cats-vs-dogs/votes', { option: 'cats' }),
    datasets: async () => call('GET', '/api/v1/datasets?limit=5'),
    login: async () => {
      const started = Date.now();
      const res = await fetch(`${platform.gateway.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'h@chaos.test', password: 'member-password-123' }), signal: AbortSignal.timeout(FOREVER_MS) }).catch(
        (error: Error) => ({ status: error.name === 'TimeoutError' ? -1 : 0 }),
      );
      return { status: res.status, ms: Date.now() - started, body: {} as Record<string, unknown> };
    },
  };

  /**
   * Freezes a server for HANG_MS while each route is called over and over, then lets it
   * go and waits until every route answers as before. Resolves with every call made.
   */
  async function hang(server: { pause(): void; resume(): void }, names: (keyof typeof routes)[]): Promise<{ calls: Call[]; resumedInMs: number; frozenMs: number }> {
    const calls: Call[] = [];
    let during = false;
    let flowing = true;
    const loops = names.map(async (name) => {
      while (flowing) {
        const startedDuring = during;
        const r = await routes[name]();
        calls.push({ route: name, status: r.status, ms: r.ms, during: startedDuring, voteId: typeof r.body.voteId === 'string' ? r.body.voteId : undefined });
        await sleep(200);
      }
    });
    await sleep(2000);
    const frozenAt = Date.now();
    during = true;
    server.pause();
    let frozenMs = 0;
    try {
      await sleep(HANG_MS);
    } finally {
      during = false;
      server.resume();
      frozenMs = Date.now() - frozenAt;
    }
    const resumedAt = Date.now();
    try {
      await waitFor(
        async () => {
          const results = await Promise.all(names.map((n) => routes[n]()));
          return results.every((r) => r.status >= 200 && r.status < 300);
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `${names.join(', ')} to answer again after SIGCONT` },
      );
    } finally {
      flowing = false;
      await Promise.all(loops);
    }
    return { calls, resumedInMs: Date.now() - resumedAt, frozenMs };
  }

  /** Accepted votes in the audit once each. */
  async function persisted(voteIds: string[]): Promise<{ found: number; distinct: number }> {
    const db = await ServiceDb.open(platform.namespace, 'votes');
    try {
      await waitFor(async () => (await db.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [voteIds])) === voteIds.length, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'every accepted vote in the audit',
      }).catch(() => undefined);
      return {
        found: await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [voteIds]),
        distinct: await db.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [voteIds]),
      };
    } finally {
      await db.close();
    }
  }

  function summarise(fault: string, result: { calls: Call[]; resumedInMs: number; frozenMs: number }, votes: { found: number; distinct: number }) {
    const during = result.calls.filter((c) => c.during);
    const refused = during.filter((c) => c.status !== 200 && c.status !== 202);
    const accepted = result.calls.filter((c) => c.voteId).map((c) => c.voteId!);
    const slowest = Object.fromEntries([...new Set(result.calls.map((c) => c.route))].map((r) => [r, Math.max(0, ...during.filter((c) => c.route === r).map((c) => c.ms))]));
    const statuses = Object.fromEntries([...new Set(during.map((c) => c.route))].map((r) => [r, during.filter((c) => c.route === r).reduce<Record<number, number>>((acc, c) => ({ ...acc, [c.status]: (acc[c.status] ?? 0) + 1 }), {})]));
    report(
      `${fault} frozen (SIGSTOP) for ${(result.frozenMs / 1000).toFixed(1)} s`,
      {
        sent: result.calls.length,
        found: votes.found,
        duplicated: votes.found - votes.distinct,
        errors: refused.length,
        'votes accepted': accepted.length,
        'waited for ever': result.calls.filter((c) => c.status === -1).length,
        'answering again after SIGCONT in ms': result.resumedInMs,
      },
      [`while frozen, by route and status: ${JSON.stringify(statuses)}; slowest answer while frozen, ms: ${JSON.stringify(slowest)} (bound ${ANSWER_WITHIN_MS})`],
    );
    return { during, accepted, slowest };
  }

  it('Redis frozen: votes answered 503 within the command timeout, taken again on SIGCONT, none lost', async () => {
    const result = await hang(redis, ['vote']);
    const accepted = result.calls.filter((c) => c.voteId).map((c) => c.voteId!);
    const votes = await persisted(accepted);
    const { during, slowest } = summarise('Redis', result, votes);
    expect(result.calls.filter((c) => c.status === -1)).toEqual([]);
    expect(during.filter((c) => c.status !== 202).length).toBeGreaterThan(0);
    expect(during.filter((c) => c.status !== 202 && c.status !== 503 && c.status !== 504)).toEqual([]);
    expect(slowest.vote).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    expect(votes).toEqual({ found: accepted.length, distinct: accepted.length });
  });

  it('Postgres frozen: routes that need it answer 503/504 within their timeouts, votes go on, all resumes on SIGCONT', async () => {
    const result = await hang(postgres, ['datasets', 'login', 'vote']);
    const accepted = result.calls.filter((c) => c.voteId).map((c) => c.voteId!);
    const votes = await persisted(accepted);
    const { during, slowest } = summarise('Postgres', result, votes);
    expect(result.calls.filter((c) => c.status === -1)).toEqual([]);
    for (const route of ['datasets', 'login']) {
      const frozen = during.filter((c) => c.route === route);
      expect([route, frozen.filter((c) => c.status === 503 || c.status === 504).length > 0]).toEqual([route, true]);
      expect([route, frozen.filter((c) => c.status !== 200 && c.status !== 503 && c.status !== 504).map((c) => c.status)]).toEqual([route, []]);
      expect([route, slowest[route]! <= ANSWER_WITHIN_MS]).toEqual([route, true]);
    }
    // Votes need Redis only: accepted while Postgres hangs, persisted after.
    expect(during.filter((c) => c.route === 'vote' && c.status === 202).length).toBeGreaterThan(0);
    expect(votes).toEqual({ found: accepted.length, distinct: accepted.length });
  });

  it('RabbitMQ frozen: RPC routes answer 503/504 within the RPC timeout, and answer again on SIGCONT', async () => {
    const result = await hang(rabbitmq, ['datasets', 'vote']);
    const accepted = result.calls.filter((c) => c.voteId).map((c) => c.voteId!);
    const votes = await persisted(accepted);
    const { during, slowest } = summarise('RabbitMQ', result, votes);
    expect(result.calls.filter((c) => c.status === -1)).toEqual([]);
    const frozen = during.filter((c) => c.route === 'datasets');
    expect(frozen.filter((c) => c.status === 503 || c.status === 504).length).toBeGreaterThan(0);
    expect(frozen.filter((c) => c.status !== 200 && c.status !== 503 && c.status !== 504).map((c) => c.status)).toEqual([]);
    expect(slowest.datasets).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    expect(votes).toEqual({ found: accepted.length, distinct: accepted.length });
  });
});
