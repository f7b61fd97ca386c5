import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

interface Store {
  id: string;
  status: string;
  error?: string;
  revision: number;
  observed: { readyReplicas: number; revision: number | null };
  rollout?: { step: number; weight: number; paused: boolean; waiting: string | null };
}
interface Pod {
  revision: number;
  ready: boolean;
}
interface Event {
  type: string;
  message: string;
}

const BAD = '6.8-bad';
const BLIND = '6.9-blind';
const ANALYSIS = { interval: '1s', successCondition: 'errorRate < 0.01 && p95Ms < 500', failureLimit: 2, onNoData: 'pause' };
const ROLLOUT = { strategy: 'Canary', steps: [{ weight: 50, pause: '1s' }, { weight: 100 }], analysis: ANALYSIS };

/**
 * API.md "Stores", Analysis: on the simulated cluster through the gateway, a version whose
 * pods are ready but serve badly is rolled back by analysis; a version whose measurements
 * all error pauses its rollout and never reaches 100%; a healthy one passes.
 */
describe('canary analysis', () => {
  const platform = new Platform(
    {
      SIMULATED_BAD_VERSIONS: BAD,
      SIMULATED_METRICS_ERROR_VERSIONS: BLIND,
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
      ROLLOUT_DEADLINE_SECONDS: '30',
      CANARY_PAUSE_MS: '200',
      RECONCILE_INTERVAL_MS: '2000',
      RATE_LIMIT_PER_USER: '100000',
    },
    ['gateway', 'provisioner'],
  );
  let alpha: string;
  let storeId: string;

  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const store = async (): Promise<Store> => (await api('GET', `/stores/${storeId}`, alpha)).body as unknown as Store;
  const pods = async (): Promise<Pod[]> => ((await api('GET', `/stores/${storeId}/pods`, alpha)).body as { items: Pod[] }).items;
  const events = async (): Promise<Event[]> => ((await api('GET', `/stores/${storeId}/events`, alpha)).body as { items: Event[] }).items;
  const analysisSince = async (count: number): Promise<string[]> => (await events()).filter((e) => e.type === 'analysis').map((e) => e.message).slice(count);
  const until = (check: (s: Store) => boolean, what: string, timeoutMs = 30_000): Promise<Store> =>
    waitFor(async () => {
      const s = await store();
      return check(s) ? s : undefined;
    }, { what, timeoutMs, intervalMs: 100 });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'alpha' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'a@analysis.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    alpha = await platform.api.login('a@analysis.test', 'member-password-123');
    const created = await api('POST', '/stores', alpha, { name: 'judged', template: 'wordpress', version: '6.6', replicas: 2, rollout: ROLLOUT });
    expect(created.status).toBe(202);
    storeId = (created.body as unknown as Store).id;
    await until((s) => s.status === 'ready', 'the store to be ready');
  }, 180_000);

  afterAll(() => platform.stop());

  it('lets a healthy version through once a measurement passed', async () => {
    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: '6.7' })).status).toBe(202);
    const done = await until((s) => s.status === 'ready' && s.revision === 2, 'the healthy rollout to complete');
    expect(done.observed.revision).toBe(2);
    const measured = await analysisSince(0);
    expect(measured.some((m) => /revision 2: errorRate 0\.002, p95Ms 180 .* → pass/.test(m))).toBe(true);
  }, 60_000);

  it('rolls back a version whose pods are ready but fail analysis', async () => {
    const before = (await analysisSince(0)).length;
    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: BAD })).status).toBe(202);
    // Its pods do get ready: the 50% step runs with them.
    await waitFor(async () => ((await pods()).some((p) => p.revision === 3 && p.ready) ? true : undefined), { what: 'ready pods of the bad version' });
    const degraded = await until((s) => s.status === 'degraded', 'the rollback by analysis');
    expect(degraded.error).toMatch(/analysis of revision 3 failed 2 time\(s\).*errorRate 0\.2, p95Ms 1500/);
    expect(degraded.observed.revision).toBe(2);
    const measured = await analysisSince(before);
    expect(measured.filter((m) => /revision 3: errorRate 0\.2, p95Ms 1500 .* → fail/.test(m))).toHaveLength(2);
    expect(measured.some((m) => / → pass/.test(m))).toBe(false);
    const rollback = (await events()).filter((e) => e.type === 'rollback').at(-1);
    expect(rollback?.message).toMatch(/analysis of revision 3 failed.*rolled back to revision 2/);
    await waitFor(async () => ((await pods()).every((p) => p.revision === 2) ? true : undefined), { what: 'the bad revision removed' });
  }, 60_000);

  it('pauses a rollout whose measurements error, which never reaches 100%, until aborted', async () => {
    const before = (await analysisSince(0)).length;
    expect((await api('PATCH', `/stores/${storeId}`, alpha, { version: BLIND })).status).toBe(202);
    const paused = await until((s) => s.rollout?.paused === true, 'the rollout paused by analysis');
    expect(paused.rollout).toMatchObject({ step: 1, weight: 50 });
    // Well past the step's 1 s pause and several intervals: it holds at 50%.
    await sleep(4000);
    const held = await store();
    expect(held).toMatchObject({ status: 'updating', rollout: { step: 1, weight: 50, paused: true } });
    const measured = await analysisSince(before);
    expect(measured.length).toBeGreaterThanOrEqual(2);
    expect(measured.every((m) => /revision 4: measurement error: .* → error, not a pass/.test(m))).toBe(true);
    expect(measured[0]).toMatch(/pausing the rollout until resumed/);
    expect((await pods()).some((p) => p.revision === 4)).toBe(true);
    expect((await api('POST', `/stores/${storeId}/rollout/abort`, alpha)).status).toBe(202);
    const aborted = await until((s) => s.status === 'degraded', 'the abort');
    expect(aborted.error).toMatch(/aborted/);
    expect(aborted.observed.revision).toBe(2);
  }, 60_000);

  it('refuses a bad analysis, naming each field (422)', async () => {
    const res = await api('PATCH', `/stores/${storeId}`, alpha, {
      version: '7.0',
      rollout: { strategy: 'Canary', analysis: { interval: 'soon', successCondition: 'errorRate < 0.01 && cpu < 2', failureLimit: -1, onNoData: 'ignore' } },
    });
    expect(res.status).toBe(422);
    const text = JSON.stringify(res.body);
    for (const field of ['interval', 'successCondition', 'failureLimit', 'onNoData']) expect(text).toContain(`rollout.analysis.${field}`);
    expect(text).toContain('unknown name \\"cpu\\"');
  });
});
