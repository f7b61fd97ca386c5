import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { report, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: `provisioner` killed mid-provision — after restart the reconcile loop
 * finishes the store or marks it failed; no orphan namespace. The simulated cluster is
 * shared in Redis (docs/SIMULATED-CLUSTER.md): the restarted provisioner finds the pods the
 * killed one started, finishes the stores that were mid-provision, and a store deleted
 * before the kill must not come back.
 */
const STORES = 5;
const REPLICAS = 2;

interface Store {
  id: string;
  name: string;
  status: string;
  error?: string;
  observed: { readyReplicas: number; revision: number | null };
}

describe('fault: provisioner SIGKILLed mid-provision', () => {
  const platform = new Platform(
    { SIMULATED_POD_START_MS: '1500', SIMULATED_POD_READY_MS: '1500', RECONCILE_INTERVAL_MS: '1000', RATE_LIMIT_PER_USER: '100000', TEAM_STORE_QUOTA: '50' },
    ['gateway', 'provisioner'],
  );
  let token: string;

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'shops' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 's@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('s@chaos.test', 'member-password-123');
  }, 120_000);

  afterAll(() => platform.stop());

  const get = async <T>(path: string) => platform.api.request<T>('GET', `/api/v1${path}`, { token });

  it('finishes every store after the restart and does not bring back the one deleted before it', async () => {
    const created: Store[] = [];
    for (let i = 0; i < STORES + 1; i++) {
      const res = await platform.api.request<Store>('POST', '/api/v1/stores', { token, body: { name: `killed-shop-${i}`, template: i % 2 ? 'medusa' : 'wordpress', replicas: REPLICAS } });
      expect(res.status).toBe(202);
      created.push(res.body);
    }
    const doomed = created.pop()!;
    // Mid-way: namespaces made and pods starting, none ready yet.
    await waitFor(async () => ((await get<{ items: unknown[] }>(`/stores/${created[0]!.id}/pods`)).body.items?.length ?? 0) > 0, { intervalMs: 50, what: 'pods starting' });
    const deleting = await platform.api.request<Store>('DELETE', `/api/v1/stores/${doomed.id}`, { token });
    const before = await Promise.all(created.map(async (s) => (await get<Store>(`/stores/${s.id}`)).body.status));
    await platform.service('provisioner').kill();
    await sleep(1000);
    await platform.service('provisioner').start();
    const restartedAt = Date.now();

    const final = await waitFor(
      async () => {
        const stores = await Promise.all(created.map(async (s) => (await get<Store>(`/stores/${s.id}`)).body));
        return stores.every((s) => s.status === 'ready' || s.status === 'failed') ? stores : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every store ready or failed' },
    ).catch(async (error: Error) => {
      const stores = await Promise.all(created.map(async (s) => (await get<Store>(`/stores/${s.id}`)).body));
      const events = await get<{ items: { at: string; type: string; message: string }[] }>(`/stores/${created[0]!.id}/events`);
      console.log(
        `provisioner SIGKILL: stuck after the restart — ${stores.map((s) => `${s.name} ${s.status}`).join(', ')}\n` +
          `events of ${created[0]!.name}: ${events.body.items.map((e) => `${e.at.slice(11, 23)} ${e.type}: ${e.message}`).join(' | ')}\n` +
          `provisioner output: ${platform.service('provisioner').logs().slice(-3000)}`,
      );
      throw error;
    });
    const settledInMs = Date.now() - restartedAt;
    const gone = await waitFor(async () => ((await get(`/stores/${doomed.id}`)).status === 404 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'the deleted store to go' });
    await sleep(3000); // a few more reconcile passes: nothing may come back
    const list = (await get<{ items: Store[] }>('/stores')).body.items;
    const pods = await Promise.all(created.map(async (s) => (await get<{ items: { ready: boolean; revision: number }[] }>(`/stores/${s.id}/pods`)).body.items));
    const events = await Promise.all(created.map(async (s) => (await get<{ items: { type: string; message: string }[] }>(`/stores/${s.id}/events`)).body.items));
    const readyEvents = events.map((e) => e.filter((x) => x.type === 'ready').length);
    const metrics = await (await fetch(`${platform.service('provisioner').url}/metrics`)).text();
    const repairs = metrics.split('\n').filter((l) => l.startsWith('reconcile_repairs_total{')).map((l) => l.replace('reconcile_repairs_total', ''));

    report(
      'provisioner SIGKILL mid-provision',
      {
        sent: created.length + 1,
        found: final.filter((s) => s.status === 'ready').length + (gone ? 1 : 0),
        duplicated: readyEvents.reduce((n, c) => n + Math.max(0, c - 1), 0),
        errors: final.filter((s) => s.status === 'failed').length,
        'settled after restart ms': settledInMs,
      },
      [
        `at the kill: ${before.join(', ')}; the deleted one ${deleting.status} ${deleting.body.status}`,
        `after: ${final.map((s) => `${s.name} ${s.status} ${s.observed.readyReplicas}/${REPLICAS}${s.error ? ` (${s.error})` : ''}`).join('; ')}`,
        `deleted store: ${gone ? '404, not listed' : 'still there'}; listed stores ${list.length}; repairs since the restart ${repairs.join(' ') || 'none'}`,
      ],
    );
    expect(deleting.status).toBe(202);
    expect(final.map((s) => s.status)).toEqual(created.map(() => 'ready'));
    expect(final.every((s) => s.observed.readyReplicas === REPLICAS)).toBe(true);
    expect(pods.map((p) => p.filter((x) => x.ready && x.revision === 1).length)).toEqual(created.map(() => REPLICAS));
    expect(list.map((s) => s.id).sort()).toEqual(created.map((s) => s.id).sort());
    expect(readyEvents.every((n) => n >= 1)).toBe(true);
  });
});
