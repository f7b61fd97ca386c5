import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN, Platform } from './support/platform.js';

const problemType = 'application/problem+json';

interface Problem {
  status: number;
  detail: string;
  errors: { limit: string; max: number; used: number; requested: number }[];
}

/**
 * Team quotas through the gateway: a team over each of the four limits gets 422
 * problem+json naming the limit, its usage and the request, and no URL; an
 * administrator's raised quota lets the same start through; members cannot touch the
 * quota route; 50 starts at once open no more uploads than the limit allows.
 */
describe('datasets: team quotas at upload/start', () => {
  const platform = new Platform({ RATE_LIMIT_PER_USER: '100000' }, ['gateway', 'upload']);
  let admin: string;
  let member: string;
  let teamId: string;

  const start = (files: number[], name = 'quota') =>
    platform.api.request<Problem & { datasetId?: string; files?: { uploadUrl?: string }[] }>('POST', '/api/v1/upload/start', {
      token: member,
      body: { datasetName: name, profile: 'xray', files: files.map((sizeBytes, i) => ({ filename: `f${i}.png`, contentType: 'image/png', sizeBytes })) },
    });
  const setQuota = (body: Record<string, number | null>, token = admin) =>
    platform.api.request<{ limits: Record<string, number>; usage: { storedBytes: number; concurrentUploads: number } }>('PUT', `/api/v1/admin/teams/${teamId}/quota`, { token, body });
  const deleteAll = async () => {
    const list = await platform.api.request<{ items: { id: string }[] }>('GET', '/api/v1/datasets?limit=100', { token: member });
    for (const item of list.body.items) expect((await platform.api.request('DELETE', `/api/v1/datasets/${item.id}`, { token: member })).status).toBe(204);
  };
  const expectRefused = (res: Awaited<ReturnType<typeof start>>, expected: Problem['errors'][number]) => {
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain(problemType);
    expect(res.body.errors).toEqual([expect.objectContaining(expected)]);
    expect(res.body.detail).toContain(String(expected.max));
    expect(JSON.stringify(res.body)).not.toMatch(/uploadUrl|X-Amz-Signature/);
  };

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    teamId = (await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'quota-team' } })).body.id;
    const user = await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'q@quotas.test', password: 'member-password-123', teamId, role: 'member' } });
    expect(user.status).toBe(201);
    member = await platform.api.login('q@quotas.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('refuses a team over each quota with 422 naming limit, usage and request, and no URL; a raised quota lets the same start through', async () => {
    const cases: { quota: Record<string, number>; files: number[]; expected: Problem['errors'][number]; raise: Record<string, number>; holding?: number[] }[] = [
      { quota: { maxFilesPerDataset: 2 }, files: [1, 1, 1], expected: { limit: 'filesPerDataset', max: 2, used: 0, requested: 3 }, raise: { maxFilesPerDataset: 3 } },
      { quota: { maxDatasetBytes: 100 }, files: [60, 41], expected: { limit: 'datasetBytes', max: 100, used: 0, requested: 101 }, raise: { maxDatasetBytes: 101 } },
      { quota: { maxStoredBytes: 150 }, files: [100], expected: { limit: 'storedBytes', max: 150, used: 100, requested: 100 }, raise: { maxStoredBytes: 200 }, holding: [100] },
      { quota: { maxConcurrentUploads: 1 }, files: [10], expected: { limit: 'concurrentUploads', max: 1, used: 1, requested: 1 }, raise: { maxConcurrentUploads: 2 }, holding: [10] },
    ];
    for (const c of cases) {
      await deleteAll();
      expect((await setQuota({ maxFilesPerDataset: null, maxDatasetBytes: null, maxStoredBytes: null, maxConcurrentUploads: null, ...c.quota })).status).toBe(200);
      if (c.holding) expect((await start(c.holding, 'holding')).status).toBe(201);
      expectRefused(await start(c.files), c.expected);
      expect((await setQuota(c.raise)).status).toBe(200);
      const again = await start(c.files);
      expect(again.status).toBe(201);
      expect(again.body.files![0]!.uploadUrl).toMatch(/^http/);
    }
  });

  it('shows limits and usage to administrators; members get 403 on the quota route, an unknown team 404', async () => {
    const view = await platform.api.request<{ limits: Record<string, number>; usage: Record<string, number> }>('GET', `/api/v1/admin/teams/${teamId}/quota`, { token: admin });
    expect(view.status).toBe(200);
    expect(Object.keys(view.body.limits).sort()).toEqual(['maxConcurrentUploads', 'maxDatasetBytes', 'maxFilesPerDataset', 'maxStoredBytes']);
    expect(view.body.usage.concurrentUploads).toBeGreaterThan(0);
    for (const res of [await setQuota({ maxStoredBytes: 10 ** 15 }, member), await platform.api.request('GET', `/api/v1/admin/teams/${teamId}/quota`, { token: member })]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    const unknown = await platform.api.request('PUT', '/api/v1/admin/teams/00000000-0000-4000-8000-000000000000/quota', { token: admin, body: { maxStoredBytes: 1 } });
    expect(unknown.status).toBe(404);
    expect((await setQuota({ maxStoredBytes: -5 })).status).toBe(400);
  });

  it('50 parallel starts of a team open no more uploads than its concurrent-upload limit', async () => {
    await deleteAll();
    expect((await setQuota({ maxFilesPerDataset: null, maxDatasetBytes: null, maxStoredBytes: null, maxConcurrentUploads: 4 })).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => start([1], `parallel-${i}`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(4);
    for (const r of results.filter((r) => r.status !== 201)) expectRefused(r, { limit: 'concurrentUploads', max: 4, used: 4, requested: 1 });
    // The independent truth: the datasets that exist.
    const list = await platform.api.request<{ items: unknown[] }>('GET', '/api/v1/datasets?limit=100', { token: member });
    expect(list.body.items).toHaveLength(4);
  });
});
