import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

interface Store {
  id: string;
  name: string;
  status: string;
  error?: string;
  url: string;
  namespace: string;
  revision: number;
  desired: { version: string; replicas: number };
  observed: { readyReplicas: number; revision: number | null };
  readyAt?: string;
}
interface Pod {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  revision: number;
}
interface Event {
  at: string;
  type: string;
  message: string;
}

const problemType = 'application/problem+json';
const BROKEN = '9.9.9-broken';

describe('stores end to end on the simulated cluster', () => {
  const platform = new Platform(
    {
      SIMULATED_FAILING_VERSIONS: BROKEN,
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
      // Long enough for a loaded machine; the rollback test waits this long for its broken revision.
      ROLLOUT_DEADLINE_SECONDS: '12',
      CANARY_PAUSE_MS: '200',
      RECONCILE_INTERVAL_MS: '1000',
      TEAM_STORE_QUOTA: '150',
      PROVISION_CONCURRENCY: '32',
      RATE_LIMIT_PER_USER: '100000',
    },
    ['gateway', 'provisioner'],
  );
  let admin: string;
  let alpha: string;
  let beta: string;

  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const store = async (id: string, token = alpha): Promise<Store> => (await api('GET', `/stores/${id}`, token)).body as unknown as Store;
  const pods = async (id: string): Promise<Pod[]> => ((await api('GET', `/stores/${id}/pods`, alpha)).body as { items: Pod[] }).items;
  const events = async (id: string): Promise<Event[]> => ((await api('GET', `/stores/${id}/events`, alpha)).body as { items: Event[] }).items;
  const until = (id: string, check: (s: Store) => boolean, what: string, timeoutMs = 30_000): Promise<Store> =>
    waitFor(async () => {
      const s = await store(id);
      return check(s) ? s : undefined;
    }, { what, timeoutMs, intervalMs: 150 });
  const create = async (name: string, extra: Record<string, unknown> = {}, token = alpha): Promise<Store> => {
    const res = await api('POST', '/stores', token, { name, template: 'wordpress', ...extra });
    expect([res.status, res.body]).toEqual([202, expect.objectContaining({ name, status: 'provisioning' })]);
    return res.body as unknown as Store;
  };

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['shops', 'a@stores.test'], ['others', 'b@stores.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' } });
    }
    alpha = await platform.api.login('a@stores.test', 'member-password-123');
    beta = await platform.api.login('b@stores.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('creates a store that becomes ready with its url, pods and provisioning events', async () => {
    const created = await create('corner-shop');
    expect(created).toMatchObject({ namespace: expect.stringMatching(/^store-[a-z0-9-]+-corner-shop$/), url: 'http://corner-shop.stores.localhost', revision: 1 });
    const ready = await until(created.id, (s) => s.status === 'ready', 'the store to be ready');
    expect(ready.observed).toEqual({ readyReplicas: 1, revision: 1 });
    expect(ready.readyAt).toBeDefined();
    expect(await pods(created.id)).toEqual([expect.objectContaining({ phase: 'Running', ready: true, revision: 1 })]);
    const log = (await events(created.id)).map((e) => e.type);
    expect(log).toEqual(expect.arrayContaining(['requested', 'provisioning', 'ready']));
  });

  it('rolls out a new version by canary steps, then rolls a version that never gets ready back and shows degraded', async () => {
    const { id } = await create('canary-shop', { replicas: 2 });
    await until(id, (s) => s.status === 'ready', 'the store to be ready');

    const patch = await api('PATCH', `/stores/${id}`, alpha, { version: '6.7', rollout: { strategy: 'Canary', steps: [25, 50, 100] } });
    expect([patch.status, (patch.body as unknown as Store).status]).toEqual([202, 'updating']);
    const updated = await until(id, (s) => s.status === 'ready' && s.observed.revision === 2, 'revision 2 to be ready');
    expect(updated.desired.version).toBe('6.7');
    const steps = (await events(id)).filter((e) => e.type === 'rollout').map((e) => e.message);
    expect(steps.join('\n')).toMatch(/canary step 1\/3: 25% of traffic to revision 2[\s\S]*canary step 2\/3: 50%[\s\S]*canary step 3\/3: 100% of traffic to revision 2; rollout complete/);
    expect((await pods(id)).every((p) => p.revision === 2)).toBe(true);

    const broken = await api('PATCH', `/stores/${id}`, alpha, { version: BROKEN, rollout: { strategy: 'BlueGreen' } });
    expect(broken.status).toBe(202);
    expect((await api('PATCH', `/stores/${id}`, alpha, { replicas: 3 })).status).toBe(409); // one operation at a time
    const degraded = await until(id, (s) => s.status === 'degraded', 'the failed rollout to be rolled back');
    expect(degraded.error).toMatch(/revision 3 \(9\.9\.9-broken\) did not get 2 ready pod\(s\) within 12 s/);
    expect(degraded.observed.revision).toBe(2);
    const rollback = (await events(id)).find((e) => e.type === 'rollback');
    expect(rollback?.message).toMatch(/rolled back to revision 2 \(6\.7\)/);
    await waitFor(async () => {
      const current = await pods(id);
      return current.length === 2 && current.every((p) => p.revision === 2 && p.ready) ? true : undefined;
    }, { what: 'revision 2 serving alone again' });

    // Scaling a degraded store scales what runs: revision 2.
    expect((await api('PATCH', `/stores/${id}`, alpha, { replicas: 3 })).status).toBe(202);
    const scaled = await until(id, (s) => s.status === 'ready' && s.observed.readyReplicas === 3, 'the scale to 3');
    expect(scaled).toMatchObject({ revision: 2, desired: { version: '6.7', replicas: 3 } });
  });

  it('refuses before Helm a blue/green update to 6 replicas that the default quota cannot hold at its peak (422 naming the numbers)', async () => {
    const { id } = await create('peak-shop');
    await until(id, (s) => s.status === 'ready', 'the store to be ready');
    const refused = await api('PATCH', `/stores/${id}`, alpha, { version: '6.7', replicas: 6, rollout: { strategy: 'BlueGreen' } });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain(problemType);
    expect(String(refused.body.detail)).toContain('blue/green to 6 replica(s) needs limits.cpu 4500m at its peak (2 revisions, 7 app pod(s) plus 1 other), the quota allows 4000m');
    // Nothing reached the cluster: still revision 1, one pod, ready.
    expect(await store(id)).toMatchObject({ status: 'ready', revision: 1, desired: { replicas: 1 } });
    expect((await pods(id)).map((p) => p.revision)).toEqual([1]);
    // The same change as a canary fits (its peak is the 6 new pods alone).
    expect((await api('PATCH', `/stores/${id}`, alpha, { version: '6.7', replicas: 6, rollout: { strategy: 'Canary' } })).status).toBe(202);
    await until(id, (s) => s.status === 'ready' && s.observed.revision === 2 && s.observed.readyReplicas === 6, 'the canary to 6 replicas');
  });

  it('restores the replicas after a chaos kill of half the pods, and only admins may run chaos', async () => {
    const { id } = await create('chaos-shop', { replicas: 4 });
    await until(id, (s) => s.status === 'ready', 'the store to be ready');
    const before = (await pods(id)).map((p) => p.name);
    expect((await api('POST', `/admin/stores/${id}/chaos`, alpha, { killPods: 2 })).status).toBe(403);
    const chaos = await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 2 });
    expect(chaos.status).toBe(202);
    const killed = (chaos.body as { killed: string[] }).killed;
    expect(killed).toHaveLength(2);
    const after = await waitFor(async () => {
      const current = await pods(id);
      return current.filter((p) => p.ready).length === 4 && current.every((p) => !killed.includes(p.name)) ? current : undefined;
    }, { what: 'four ready pods again', timeoutMs: 20_000 });
    expect(after.filter((p) => !before.includes(p.name))).toHaveLength(2);
    expect((await events(id)).some((e) => e.type === 'chaos' && e.message.includes('2 pod(s) killed'))).toBe(true);
  });

  it('deletes a store: 202 deleting, 409 when asked again, then gone', async () => {
    const { id } = await create('doomed-shop');
    await until(id, (s) => s.status === 'ready', 'the store to be ready');
    const del = await api('DELETE', `/stores/${id}`, alpha);
    expect([del.status, (del.body as unknown as Store).status]).toEqual([202, 'deleting']);
    const again = await api('DELETE', `/stores/${id}`, alpha);
    if (again.status !== 404) expect(again.status).toBe(409);
    await waitFor(async () => ((await api('GET', `/stores/${id}`, alpha)).status === 404 ? true : undefined), { what: 'the store to be gone' });
    expect((await api('GET', '/stores', alpha)).body.items).not.toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
  });

  it('refuses duplicates with 409, and bad names, templates, versions and steps with 422 before anything reaches the cluster', async () => {
    await create('unique-shop');
    expect((await api('POST', '/stores', alpha, { name: 'unique-shop', template: 'medusa' })).status).toBe(409);
    const hostile = ['store-../x', 'a'.repeat(41), 'UPPER', 'a;rm -rf /', '$(id)', 'two  spaces', '-lead', 'trail-', 'x', 'a--b', '--set'];
    for (const name of hostile) {
      const res = await api('POST', '/stores', alpha, { name, template: 'wordpress' });
      expect([name, res.status]).toEqual([name, 422]);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    expect((await api('POST', '/stores', alpha, { name: 'tpl-shop', template: 'magento' })).status).toBe(422);
    expect((await api('POST', '/stores', alpha, { name: 'ver-shop', template: 'wordpress', version: '6.6; rm -rf /' })).status).toBe(422);
    expect((await api('POST', '/stores', alpha, { name: 'rep-shop', template: 'wordpress', replicas: 0 })).status).toBe(422);
    expect((await api('POST', '/stores', alpha, { name: 'step-shop', template: 'wordpress', rollout: { strategy: 'Canary', steps: [50, 20] } })).status).toBe(422);
    expect((await api('POST', '/stores', alpha, { name: 'type-shop', template: 'wordpress', replicas: '2' })).status).toBe(400);
    const names = ((await api('GET', '/stores', admin)).body.items as Store[]).map((s) => s.name);
    for (const name of hostile) expect(names).not.toContain(name);
  });

  it("answers 404 to another team's store on every store route", async () => {
    const { id } = await create('private-shop');
    for (const [method, path, body] of [
      ['GET', `/stores/${id}`],
      ['GET', `/stores/${id}/pods`],
      ['GET', `/stores/${id}/events`],
      ['PATCH', `/stores/${id}`, { replicas: 2 }],
      ['DELETE', `/stores/${id}`],
    ] as const) {
      const res = await api(method, path, beta, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect(((await api('GET', '/stores', beta)).body.items as Store[]).map((s) => s.id)).not.toContain(id);
  });

});

describe('100 stores at once', () => {
  // A generous deadline: a hundred stores' pods start at once on a small machine.
  const platform = new Platform(
    { SIMULATED_POD_START_MS: '150', SIMULATED_POD_READY_MS: '150', ROLLOUT_DEADLINE_SECONDS: '120', TEAM_STORE_QUOTA: '150', PROVISION_CONCURRENCY: '32', RATE_LIMIT_PER_USER: '100000' },
    ['gateway', 'provisioner'],
  );
  let alpha: string;
  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'bulk' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'bulk@stores.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    alpha = await platform.api.login('bulk@stores.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('provisions 100 stores created at once, all ready', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    const created = await Promise.all(names.map((name) => api('POST', '/stores', alpha, { name, template: i(name) % 2 ? 'medusa' : 'wordpress' })));
    expect(created.map((r) => r.status)).toEqual(names.map(() => 202));
    let statuses = '';
    const ready = await waitFor(async () => {
      const items = ((await api('GET', '/stores', alpha)).body.items as Store[]).filter((s) => s.name.startsWith('bulk-'));
      const counts: Record<string, number> = {};
      for (const s of items) counts[s.status] = (counts[s.status] ?? 0) + 1;
      statuses = JSON.stringify(counts);
      return items.length === 100 && items.every((s) => s.status === 'ready') ? items : undefined;
    }, { what: '100 stores to be ready', timeoutMs: 120_000, intervalMs: 500 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; stores by status: ${statuses}`);
    });
    expect(new Set(ready.map((s) => s.namespace)).size).toBe(100);
    const metrics = await (await fetch(`${platform.service('provisioner').url}/metrics`)).text();
    expect(metrics).toMatch(/^stores\{status="ready"\} (\d+)/m);
    expect(Number(/^stores\{status="ready"\} (\d+)/m.exec(metrics)![1])).toBeGreaterThanOrEqual(100);
    expect(metrics).toMatch(/^store_provisioning_duration_seconds_count\{template="wordpress",outcome="ready"\} \d+/m);
    expect(metrics).toMatch(/^reconcile_runs_total \d+/m);
  });
});

describe('store quotas', () => {
  const platform = new Platform({ MAX_STORES: '3', TEAM_STORE_QUOTA: '2', SIMULATED_POD_START_MS: '50', SIMULATED_POD_READY_MS: '50' }, ['gateway', 'provisioner']);

  beforeAll(() => platform.start());
  afterAll(() => platform.stop());

  it('answers 429 when the team quota, then the platform, is full', async () => {
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const tokens: string[] = [];
    for (const team of ['q1', 'q2']) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: `${team}@quota.test`, password: 'member-password-123', teamId: created.body.id, role: 'member' } });
      tokens.push(await platform.api.login(`${team}@quota.test`, 'member-password-123'));
    }
    const post = (token: string, name: string) => platform.api.request('POST', '/api/v1/stores', { token, body: { name, template: 'wordpress' } });
    expect((await post(tokens[0]!, 'q1-a')).status).toBe(202);
    expect((await post(tokens[0]!, 'q1-b')).status).toBe(202);
    const team = await post(tokens[0]!, 'q1-c');
    expect(team.status).toBe(429);
    expect(JSON.stringify(team.body)).toContain('quota of 2');
    expect((await post(tokens[1]!, 'q2-a')).status).toBe(202);
    const full = await post(tokens[1]!, 'q2-b');
    expect(full.status).toBe(429);
    expect(JSON.stringify(full.body)).toContain('maximum of 3');
  });
});

function i(name: string): number {
  return Number(name.slice(-3));
}
