import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

/**
 * API.md `POST /admin/stores/{id}/load` through the gateway: an administrator sets a
 * simulated store's CPU load and watches its autoscaling follow, as seed 004's `/load` did.
 */
describe('store load end to end on the simulated cluster', () => {
  const platform = new Platform(
    {
      SIMULATED_POD_START_MS: '100',
      SIMULATED_POD_READY_MS: '100',
      RECONCILE_INTERVAL_MS: '1000',
      SIMULATED_AUTOSCALE: '1-4@50',
      SIMULATED_AUTOSCALE_STABILIZATION_MS: '0',
      RATE_LIMIT_PER_USER: '100000',
    },
    ['gateway', 'provisioner'],
  );
  let admin: string;
  let member: string;
  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const readyPods = async (id: string): Promise<number> =>
    ((await api('GET', `/stores/${id}/pods`, member)).body as { items: Array<{ ready: boolean }> }).items.filter((p) => p.ready).length;

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'loaded' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'm@load.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    member = await platform.api.login('m@load.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('scales a store out under load and back in without it, for administrators only', async () => {
    const created = await api('POST', '/stores', member, { name: 'loaded-shop', template: 'wordpress', replicas: 1 });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await waitFor(async () => ((await api('GET', `/stores/${id}`, member)).body.status === 'ready' ? true : undefined), { what: 'the store ready', timeoutMs: 30_000 });

    const refused = await Promise.all([
      api('POST', `/admin/stores/${id}/load`, member, { cpuPercent: 400 }),
      api('POST', `/admin/stores/${id}/load`, admin, { cpuPercent: 5000 }),
      api('POST', `/admin/stores/${id}/load`, admin, { cpuPercent: 'lots' }),
      api('POST', `/admin/stores/${randomUUID()}/load`, admin, { cpuPercent: 10 }),
    ]);
    expect(refused.map((r) => r.status)).toEqual([403, 422, 400, 404]);
    for (const r of refused) expect(r.headers.get('content-type')).toContain('application/problem+json');

    const loaded = await api('POST', `/admin/stores/${id}/load`, admin, { cpuPercent: 400 });
    expect([loaded.status, loaded.body]).toEqual([202, { storeId: id, cpuPercent: 400 }]);
    await waitFor(async () => ((await readyPods(id)) >= 3 ? true : undefined), { what: 'the store scaled out under load', timeoutMs: 30_000 });

    expect((await api('POST', `/admin/stores/${id}/load`, admin, { cpuPercent: 0 })).status).toBe(202);
    await waitFor(async () => ((await readyPods(id)) === 1 ? true : undefined), { what: 'the store scaled back in', timeoutMs: 30_000 });
    const events = ((await api('GET', `/stores/${id}/events`, member)).body as { items: Array<{ type: string; message: string }> }).items;
    expect(events.filter((e) => e.message.includes('load')).length).toBeGreaterThanOrEqual(2);
  });
});
