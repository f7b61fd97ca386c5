import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

interface RolloutState {
  step: number;
  steps: number;
  weight: number;
  paused: boolean;
  waiting: 'ready' | 'pause' | 'promote' | null;
  until: string | null;
}
interface Store {
  id: string;
  status: string;
  error?: string;
  revision: number;
  desired: { version: string };
  observed: { readyReplicas: number; revision: number | null };
  rollout?: RolloutState;
}
interface Pod {
  revision: number;
  ready: boolean;
}

/** The provisioner's reconcile period here: an abort must have sent all traffic back within it. */
const RECONCILE_MS = 3000;
const STEPS = [{ weight: 10, pause: '1s' }, { weight: 50, pause: 'indefinite' }, { weight: 100 }];

/**
 * API.md "Stores": a canary `10% → 50% (indefinite) → 100%` steered through the gateway on
 * the simulated cluster — it waits at 50% until promoted; pause and resume hold and release
 * it; abort at 50% sends all traffic back to the stable revision within one reconcile
 * period; a new version after the abort rolls out cleanly; each action is a store event
 * and audited.
 */
describe('rollout control: promote, pause, resume, abort', () => {
  const platform = new Platform(
    {
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
      ROLLOUT_DEADLINE_SECONDS: '30',
      CANARY_PAUSE_MS: '200',
      RECONCILE_INTERVAL_MS: String(RECONCILE_MS),
      RATE_LIMIT_PER_USER: '100000',
    },
    ['gateway', 'provisioner', 'admin'],
  );
  let admin: string;
  let alpha: string;
  let beta: string;
  let storeId: string;

  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const store = async (): Promise<Store> => (await api('GET', `/stores/${storeId}`, alpha)).body as unknown as Store;
  const pods = async (): Promise<Pod[]> => ((await api('GET', `/stores/${storeId}/pods`, alpha)).body as { items: Pod[] }).items;
  const until = (check: (s: Store) => boolean, what: string, timeoutMs = 30_000): Promise<Store> =>
    waitFor(async () => {
      const s = await store();
      return check(s) ? s : undefined;
    }, { what, timeoutMs, intervalMs: 100 });
  const act = (action: string, body?: unknown, token = alpha) => api('POST', `/stores/${storeId}/rollout/${action}`, token, body);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['alpha', 'a@rollouts.test'], ['beta', 'b@rollouts.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' } });
    }
    alpha = await platform.api.login('a@rollouts.test', 'member-password-123');
    beta = await platform.api.login('b@rollouts.test', 'member-password-123');
    const created = await api('POST', '/stores', alpha, { name: 'steered', template: 'wordpress', version: '6.6', replicas: 4, rollout: { strategy: 'Canary', steps: STEPS } });
    expect(created.status).toBe(202);
    storeId = (created.body as unknown as Store).id;
    await until((s) => s.status === 'ready', 'the store to be ready');
  }, 180_000);

  afterAll(() => platform.stop());

  it('holds a paused step past its pause, goes on when resumed, waits at an indefinite step until promoted', async () => {
    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: '6.7' })).status).toBe(202);
    await until((s) => s.rollout?.weight === 10 && s.rollout.waiting === 'pause', 'the first step (10%) to pause');
    const paused = await act('pause');
    expect(paused.status).toBe(202);
    expect((paused.body as unknown as Store).rollout?.paused).toBe(true);
    // The step's own pause is 1 s: paused, it holds well past it.
    await sleep(3000);
    expect((await store()).rollout).toMatchObject({ step: 1, weight: 10, paused: true });
    expect((await act('resume')).status).toBe(202);
    const waiting = await until((s) => s.rollout?.weight === 50 && s.rollout.waiting === 'promote', 'the 50% step, waiting to be promoted');
    expect(waiting.rollout).toMatchObject({ step: 2, steps: 3, paused: false, until: null });
    // Indefinite: nothing moves on its own.
    await sleep(2500);
    expect((await store()).rollout).toMatchObject({ step: 2, weight: 50, waiting: 'promote' });
    const canary = await pods();
    expect(new Set(canary.map((p) => p.revision))).toEqual(new Set([1, 2]));
    expect((await act('promote')).status).toBe(202);
    const done = await until((s) => s.status === 'ready', 'the promoted rollout to complete');
    expect(done).toMatchObject({ revision: 2, desired: { version: '6.7' }, observed: { revision: 2 } });
    expect(done.rollout).toBeUndefined();
    expect((await pods()).every((p) => p.revision === 2)).toBe(true);
  }, 120_000);

  it('answers 409 when no rollout runs, and 404 for another team\'s store', async () => {
    for (const action of ['promote', 'pause', 'resume', 'abort']) {
      const res = await act(action);
      expect([action, res.status, res.headers.get('content-type')]).toEqual([action, 409, expect.stringContaining('application/problem+json')]);
      expect((await act(action, undefined, beta)).status).toBe(404);
    }
  });

  it('aborts at 50%: all traffic back to the stable revision within one reconcile period, degraded until a new version, which then rolls out cleanly', async () => {
    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: '6.8' })).status).toBe(202);
    await until((s) => s.rollout?.weight === 50 && s.rollout.waiting === 'promote', 'the 50% step of 6.8');
    const asked = performance.now();
    expect((await act('abort')).status).toBe(202);
    // Traffic back: the canary's pods gone and the stable revision's alone — within one period.
    await waitFor(async () => ((await pods()).every((p) => p.revision === 2) ? true : undefined), { what: 'the aborted revision removed', timeoutMs: RECONCILE_MS, intervalMs: 100 });
    expect(performance.now() - asked).toBeLessThanOrEqual(RECONCILE_MS);
    // Degraded once the stable revision serves with all its pods ready again (the rollback waits for them).
    const aborted = await until((s) => s.status === 'degraded', 'the abort', 30_000);
    expect(aborted.error).toMatch(/aborted; serving revision 2 \(6\.7\)/);
    expect(aborted.observed.revision).toBe(2);
    // Still degraded a reconcile period later: the version asked for is not the one serving.
    await sleep(RECONCILE_MS + 500);
    expect((await store()).status).toBe('degraded');

    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: '6.9' })).status).toBe(202);
    await until((s) => s.rollout?.weight === 50, 'the 50% step of 6.9');
    const full = await act('promote', { full: true });
    expect(full.status).toBe(202);
    const clean = await until((s) => s.status === 'ready', 'the rollout after the abort');
    expect(clean).toMatchObject({ revision: 4, desired: { version: '6.9' }, observed: { revision: 4 } });
    expect(clean.error).toBeUndefined();
    expect((await pods()).every((p) => p.revision === 4 && p.ready)).toBe(true);
  }, 120_000);

  it('records every action as a store event and in the audit log', async () => {
    const events = ((await api('GET', `/stores/${storeId}/events`, alpha)).body as { items: { type: string; message: string }[] }).items;
    const said = events.filter((e) => e.type === 'rollout' && / \(by [0-9a-f-]{36}\)$/.test(e.message)).map((e) => e.message.split(' (by ')[0]);
    expect(said).toEqual([
      'rollout paused: the rollout holds where it is, traffic as it is, until resumed',
      'rollout resumed',
      'rollout promoted: the current step goes on',
      'rollout abort requested: all traffic back to the stable revision',
      'rollout promoted in full: straight to 100%',
    ]);
    const audit = await waitFor(async () => {
      const res = await platform.api.request<{ items: { action: string; details: { action: string } }[] }>('GET', '/api/v1/admin/audit?action=store.rollout', { token: admin });
      return res.body.items.length >= 5 ? res.body.items : undefined;
    }, { what: 'five audited rollout actions' });
    expect(audit.map((a) => a.details.action).sort()).toEqual(['abort', 'pause', 'promote', 'promote', 'resume']);
  });

  it('refuses a step pause that is no duration, naming the field (422)', async () => {
    const res = await api('PATCH', `/stores/${storeId}`, alpha, { version: '7.0', rollout: { strategy: 'Canary', steps: [{ weight: 50, pause: 'forever' }, { weight: 100 }] } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('rollout.steps');
  });
});
