import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

/** API.md: `{status, since, transitions: [{at, from, to, reason}]}`, plus `reason` and `checkedAt`. */
interface Health {
  status: 'up' | 'down' | 'unknown';
  since: string | null;
  transitions: Array<{ at: string; from: string; to: string; reason: string | null }>;
  reason: string | null;
  checkedAt: string | null;
}

const PERIOD_MS = 1000;

describe('store health end to end on the simulated cluster', () => {
  const platform = new Platform(
    { SIMULATED_POD_START_MS: '150', SIMULATED_POD_READY_MS: '150', RECONCILE_INTERVAL_MS: String(PERIOD_MS), RATE_LIMIT_PER_USER: '100000' },
    ['gateway', 'provisioner'],
  );
  let admin: string;
  let alpha: string;
  let beta: string;

  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const health = async (id: string): Promise<Health> => (await api('GET', `/stores/${id}/health`, alpha)).body as unknown as Health;
  const untilHealth = (id: string, state: Health['status'], timeoutMs = 20_000): Promise<Health> =>
    waitFor(async () => {
      const h = await health(id);
      return h.status === state ? h : undefined;
    }, { what: `the store to be ${state}`, timeoutMs, intervalMs: 100 });

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['healthy', 'a@health.test'], ['strangers', 'b@health.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' } });
    }
    alpha = await platform.api.login('a@health.test', 'member-password-123');
    beta = await platform.api.login('b@health.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('shows a ready store down within two periods once its pods are killed and kept from starting, and up when they return', async () => {
    const created = await api('POST', '/stores', alpha, { name: 'watched-shop', template: 'wordpress', replicas: 2 });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await untilHealth(id, 'up');

    const chaos = await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 2, holdPods: true });
    expect([chaos.status, (chaos.body.killed as string[]).length, chaos.body.held]).toEqual([202, 2, true]);
    const killedAt = Date.now();
    const down = await untilHealth(id, 'down', 10_000);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * PERIOD_MS + 1000);
    expect(down.reason).toMatch(/^0 ready pods: 2 pending \(Unschedulable: /);
    // API.md "Health": a down store is `degraded`, with what blocks as its error.
    const store = (await api('GET', `/stores/${id}`, alpha)).body as { status: string; error?: string; health: { status: string; reason: string | null } };
    expect([store.status, store.error, store.health.status, store.health.reason]).toEqual(['degraded', `health: down — ${down.reason ?? ''}`, 'down', down.reason]);
    const events = ((await api('GET', `/stores/${id}/events`, alpha)).body as { items: Array<{ type: string; message: string }> }).items;
    expect(events.filter((e) => e.type === 'health').map((e) => e.message)).toEqual([expect.stringMatching(/^health: up/), expect.stringMatching(/^health: down — 0 ready pods/)]);

    expect((await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 0, holdPods: false })).status).toBe(202);
    const up = await untilHealth(id, 'up', 10_000);
    expect(up.transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
      ['unknown', 'up', null],
      ['up', 'down', down.reason],
      ['down', 'up', null],
    ]);
    expect(up.since).toBe(up.transitions[2]?.at);
    const back = (await api('GET', `/stores/${id}`, alpha)).body as { status: string; error?: string };
    expect([back.status, back.error]).toEqual(['ready', undefined]);
  });

  it("answers 404 problem+json for another team's store", async () => {
    const created = await api('POST', '/stores', alpha, { name: 'private-shop', template: 'wordpress' });
    const res = await api('GET', `/stores/${created.body.id as string}/health`, beta);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await api('GET', '/stores/not-a-uuid/health', alpha)).status).toBe(404);
  });
});
