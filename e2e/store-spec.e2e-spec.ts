import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

interface Store {
  id: string;
  status: string;
  revision: number;
  desired: { version: string; replicas: number };
  observed: { readyReplicas: number; revision: number | null };
}
interface Spec {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & { version: string; replicas: number; env: { name: string; value: string }[] };
}

/**
 * API.md "Stores": `GET /stores/{id}/spec` and `PUT /stores/{id}/spec[?dryRun=true]` through
 * the gateway on the simulated cluster — a dry run answers the diff and changes nothing,
 * applying the same document moves the store to it, five bad fields give one 422 naming
 * all five, YAML in and out, and another team's store is not found.
 */
describe('store spec: read, dry run, apply', () => {
  const platform = new Platform({ SIMULATED_POD_START_MS: '150', SIMULATED_POD_READY_MS: '150', RECONCILE_INTERVAL_MS: '2000', RATE_LIMIT_PER_USER: '100000' }, ['gateway', 'provisioner']);
  let alpha: string;
  let beta: string;
  let storeId: string;

  const api = (method: string, path: string, token: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) =>
    platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, ...options });
  const store = async (): Promise<Store> => (await api('GET', `/stores/${storeId}`, alpha)).body as unknown as Store;
  const spec = async (): Promise<Spec> => (await api('GET', `/stores/${storeId}/spec`, alpha)).body as unknown as Spec;

  const wanted = (): Spec => ({
    apiVersion: 'flotilla.io/v1',
    kind: 'Store',
    metadata: { name: 'specced' },
    spec: {
      template: 'wordpress',
      version: '6.7',
      replicas: 3,
      env: [{ name: 'WP_DEBUG', value: 'false' }],
      readinessProbe: { httpGet: { path: '/' }, periodSeconds: 5 },
      livenessProbe: { httpGet: { path: '/' }, periodSeconds: 10 },
      autoscale: { minReplicas: 2, maxReplicas: 6, targetCPUPercent: 70 },
      rollout: { strategy: 'BlueGreen', scaleDownDelaySeconds: 0 },
    },
  });

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['alpha', 'a@spec.test'], ['beta', 'b@spec.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' } });
    }
    alpha = await platform.api.login('a@spec.test', 'member-password-123');
    beta = await platform.api.login('b@spec.test', 'member-password-123');
    const created = await api('POST', '/stores', alpha, { body: { name: 'specced', template: 'wordpress', version: '6.6', replicas: 1 } });
    expect(created.status).toBe(202);
    storeId = (created.body as unknown as Store).id;
    await waitFor(async () => ((await store()).status === 'ready' ? true : undefined), { what: 'the store to be ready', timeoutMs: 60_000, intervalMs: 100 });
  }, 180_000);

  afterAll(() => platform.stop());

  it('shows the desired state as a document, empty env for a store made without one', async () => {
    expect(await spec()).toEqual({
      apiVersion: 'flotilla.io/v1',
      kind: 'Store',
      metadata: { name: 'specced' },
      spec: { template: 'wordpress', version: '6.6', replicas: 1, env: [], rollout: { strategy: 'BlueGreen' } },
    });
  });

  it('answers a dry run with the diff and changes nothing', async () => {
    const before = await spec();
    const dry = await api('PUT', `/stores/${storeId}/spec?dryRun=true`, alpha, { body: wanted() });
    expect(dry.status).toBe(200);
    const diff = (dry.body as { diff: { path: string; from: unknown; to: unknown }[] }).diff;
    expect(diff).toEqual(
      expect.arrayContaining([
        { path: 'spec.version', from: '6.6', to: '6.7' },
        { path: 'spec.replicas', from: 1, to: 3 },
        { path: 'spec.env', from: [], to: [{ name: 'WP_DEBUG', value: 'false' }] },
        { path: 'spec.autoscale', from: null, to: { minReplicas: 2, maxReplicas: 6, targetCPUPercent: 70 } },
        { path: 'spec.rollout.scaleDownDelaySeconds', from: null, to: 0 },
      ]),
    );
    expect(diff.map((d) => d.path).sort()).toEqual(
      ['spec.autoscale', 'spec.env', 'spec.livenessProbe', 'spec.readinessProbe', 'spec.replicas', 'spec.rollout.scaleDownDelaySeconds', 'spec.version'].sort(),
    );
    expect(await spec()).toEqual(before);
    expect(await store()).toMatchObject({ status: 'ready', revision: 1 });
  });

  it('refuses a document with five bad fields in one 422 naming all five, and changes nothing', async () => {
    const bad = wanted();
    bad.kind = 'Service';
    bad.spec.replicas = 0;
    bad.spec.env = [{ name: '1-BAD', value: 'x' }, { name: 'WORDPRESS_DB_PASSWORD', value: 'mine' }];
    bad.spec.autoscale = { minReplicas: 2, maxReplicas: 6, targetCPUPercent: 170 };
    const refused = await api('PUT', `/stores/${storeId}/spec`, alpha, { body: bad });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const paths = (refused.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['kind', 'spec.autoscale.targetCPUPercent', 'spec.env[0].name', 'spec.env[1].name', 'spec.replicas']);
    expect(await store()).toMatchObject({ status: 'ready', revision: 1 });
    // What the schema cannot say: another name, another template.
    const renamed = { ...wanted(), metadata: { name: 'other' }, spec: { ...wanted().spec, template: 'medusa' } };
    const refusedAgain = await api('PUT', `/stores/${storeId}/spec?dryRun=true`, alpha, { body: renamed });
    expect(refusedAgain.status).toBe(422);
    expect((refusedAgain.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['metadata.name', 'spec.template']);
  });

  it('applies the document as PATCH does: the new version ready, env and replicas shown in the spec', async () => {
    const applied = await api('PUT', `/stores/${storeId}/spec`, alpha, { body: wanted() });
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({ status: 'updating', revision: 2, desired: { version: '6.7', replicas: 3 } });
    const ready = await waitFor(async () => {
      const s = await store();
      return s.status === 'ready' && s.observed.revision === 2 && s.observed.readyReplicas === 3 ? s : undefined;
    }, { what: 'revision 2 ready with 3 replicas', timeoutMs: 60_000, intervalMs: 100 });
    expect(ready.desired).toMatchObject({ version: '6.7', replicas: 3 });
    expect(await spec()).toEqual(wanted());
    // Nothing left to change.
    const again = await api('PUT', `/stores/${storeId}/spec?dryRun=true`, alpha, { body: wanted() });
    expect(again.body).toEqual({ diff: [] });
  }, 90_000);

  it('reads and takes YAML', async () => {
    const read = await api('GET', `/stores/${storeId}/spec`, alpha, { headers: { accept: 'application/yaml' } });
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toContain('application/yaml');
    expect(parse(read.body as unknown as string)).toEqual(wanted());
    const changed = wanted();
    changed.spec.env = [{ name: 'WP_DEBUG', value: 'true' }];
    const dry = await api('PUT', `/stores/${storeId}/spec?dryRun=true`, alpha, { rawBody: stringify(changed), headers: { 'content-type': 'application/yaml' } });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ diff: [{ path: 'spec.env', from: [{ name: 'WP_DEBUG', value: 'false' }], to: [{ name: 'WP_DEBUG', value: 'true' }] }] });
    const broken = await api('PUT', `/stores/${storeId}/spec?dryRun=true`, alpha, { rawBody: 'spec: [unclosed', headers: { 'content-type': 'application/yaml' } });
    expect(broken.status).toBe(400);
  });

  it("answers 404 for another team's store", async () => {
    expect((await api('GET', `/stores/${storeId}/spec`, beta)).status).toBe(404);
    expect((await api('PUT', `/stores/${storeId}/spec?dryRun=true`, beta, { body: wanted() })).status).toBe(404);
    expect((await api('PUT', `/stores/${storeId}/spec`, beta, { body: wanted() })).status).toBe(404);
  });
});
