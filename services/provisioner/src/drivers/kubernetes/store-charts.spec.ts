import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreTemplate } from '@flotilla/contracts';
import type { ReleaseSpec, RevisionSpec } from '../cluster-driver.js';
import { ExecHelmRunner, findUp, helmPath, moduleDir } from './helm.js';
import { STORE_SECRET_KEYS, STORE_SECRET_PATTERN, storeValues } from './store-release.js';

/*
 * The store charts rendered by the pinned Helm binary, with the values the driver
 * builds. Helm's output is YAML; a two-line helper chart turns it into JSON with Helm's
 * own parser (`fromYaml`), so the assertions read the same objects Helm would send.
 */

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown> & { template?: PodTemplate };
  data?: Record<string, string>;
};
type PodTemplate = { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
type PodSpec = { containers: Container[]; initContainers?: Container[]; securityContext?: SecurityContext; volumes?: Array<Record<string, unknown>> };
type SecurityContext = {
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
};
type Container = {
  name: string;
  image: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: object;
  livenessProbe?: object;
  securityContext?: SecurityContext;
  env?: Array<{ name: string; value?: string }>;
};

const chartsDir = findUp(join('deploy', 'store-charts'), moduleDir()) as string;
const helm = new ExecHelmRunner(helmPath());
let work: string;
let converter: string;

const SECRETS: Record<StoreTemplate, Record<string, string>> = {
  wordpress: {
    databaseRootPassword: 'dbroot-4e8Qz0Lk2Vb7Nc1X',
    databasePassword: 'dbuser-7Hf3Kp9Wq2Zs5Tm8',
    adminPassword: 'admin-1Jg6Rt8Yu3Io5Pa2',
    authSalt: 'salt-9Ks4Ld7Fg2Hj6Qw1Ez3',
  },
  medusa: {
    databaseRootPassword: 'dbroot-4e8Qz0Lk2Vb7Nc1X',
    databasePassword: 'dbuser+7Hf3Kp/Wq2Zs5Tm8=',
    adminPassword: 'admin-1Jg6Rt8Yu3Io5Pa2',
    redisPassword: 'redis-3Mn8Bv1Cx6Zl4Kj9',
    jwtSecret: 'jwt-5Df2Gh7Jk1Lm4Np8Qr6',
    cookieSecret: 'cookie-8Tr3Ew6Qa1Sd9Fg4',
  },
};

const IMAGE: Record<StoreTemplate, string> = { wordpress: 'wordpress', medusa: 'ghcr.io/flotilla/medusa-store' };
const VERSIONS: Record<StoreTemplate, [string, string]> = { wordpress: ['6.6', '6.6.1'], medusa: ['2.8.4', '2.8.5'] };

function values(template: StoreTemplate, revisions: RevisionSpec[], extra: Partial<ReleaseSpec> = {}, storageClassName?: string): Record<string, unknown> {
  return storeValues(
    template,
    { host: 'shop-one.stores.example.com', secrets: SECRETS[template], revisions, ...extra },
    { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx', storageClassName },
  );
}

async function render(template: StoreTemplate, input: Record<string, unknown>): Promise<K8sObject[]> {
  const { stdout } = await helm.run(['template', 'shop-one', join(chartsDir, template), '--namespace', 'store-shop-one', '--values', '-'], {
    stdin: JSON.stringify(input),
    timeoutMs: 20_000,
  });
  // One converter chart per rendering: renderings run in parallel.
  const chart = mkdtempSync(join(work, 'convert-'));
  cpSync(converter, chart, { recursive: true });
  writeFileSync(join(chart, 'in.yaml'), stdout);
  const converted = await helm.run(['template', 'convert', chart], { timeoutMs: 20_000 });
  const list = JSON.parse(converted.stdout.slice(converted.stdout.indexOf('{'))) as { items: Array<K8sObject & { Error?: string }> };
  for (const item of list.items) if (item.Error) throw new Error(`rendered YAML does not parse: ${item.Error}`);
  return list.items;
}

async function renderError(template: StoreTemplate, input: Record<string, unknown>): Promise<string> {
  const error = await helm
    .run(['template', 'shop-one', join(chartsDir, template), '--namespace', 'store-shop-one', '--values', '-'], { stdin: JSON.stringify(input), timeoutMs: 20_000 })
    .then(() => undefined)
    .catch((e: unknown) => e);
  if (!error) throw new Error('rendering succeeded');
  return String(error);
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);
const all = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const podSpecs = (objects: K8sObject[]): Array<{ owner: string; kind: string; spec: PodSpec; labels: Record<string, string> }> =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, kind: o.kind, spec: (o.spec?.template as PodTemplate).spec, labels: (o.spec?.template as PodTemplate).metadata?.labels ?? {} }));
const backend = (ingress: K8sObject | undefined): string | undefined =>
  ((ingress?.spec?.rules as Array<{ http: { paths: Array<{ backend: { service: { name: string } } }> } }>) ?? [])[0]?.http.paths[0].backend.service.name;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'flotilla-charts-'));
  converter = join(work, 'convert');
  mkdirSync(join(converter, 'templates'), { recursive: true });
  writeFileSync(join(converter, 'Chart.yaml'), 'apiVersion: v2\nname: convert\nversion: 0.1.0\n');
  writeFileSync(
    join(converter, 'templates', 'list.yaml'),
    [
      '{{- $docs := list }}',
      '{{- range regexSplit "(?m)^---[ \\t]*$" (.Files.Get "in.yaml") -1 }}',
      '{{- if regexFind "(?m)^[^#\\\\s]" . }}{{- $docs = append $docs (fromYaml .) }}{{- end }}',
      '{{- end }}',
      '{{- dict "kind" "List" "items" $docs | toJson }}',
      '',
    ].join('\n'),
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.each(['wordpress', 'medusa'] as const)('the %s chart', (template) => {
  const [v1, v2] = VERSIONS[template];
  let one: K8sObject[];
  let canary: K8sObject[];
  let blueGreen: K8sObject[];
  let switched: K8sObject[];

  beforeAll(async () => {
    [one, canary, blueGreen, switched] = await Promise.all([
      render(template, values(template, [{ revision: 1, version: v1, replicas: 2, weight: 100 }], {}, 'fast-ssd')),
      render(template, values(template, [{ revision: 1, version: v1, replicas: 2, weight: 90 }, { revision: 2, version: v2, replicas: 1, weight: 10 }])),
      render(template, values(template, [{ revision: 1, version: v1, replicas: 2, weight: 100 }, { revision: 2, version: v2, replicas: 2, weight: 0 }])),
      render(template, values(template, [{ revision: 1, version: v1, replicas: 2, weight: 0 }, { revision: 2, version: v2, replicas: 2, weight: 100 }])),
    ]);
  });

  it('passes helm lint --strict with the values the driver builds', async () => {
    const input = values(template, [{ revision: 1, version: v1, replicas: 2, weight: 90 }, { revision: 2, version: v2, replicas: 1, weight: 10 }]);
    const { stdout } = await helm.run(['lint', '--strict', join(chartsDir, template), '--namespace', 'store-shop-one', '--values', '-'], { stdin: JSON.stringify(input), timeoutMs: 20_000 });
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('runs one revision as {release}-r1 with the version as image tag, the host served by it alone', () => {
    expect(all(one, 'Deployment').map((d) => d.metadata.name)).toEqual(['shop-one-r1']);
    const deployment = find(one, 'Deployment', 'shop-one-r1') as K8sObject;
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.metadata.labels?.['flotilla.io/revision']).toBe('1');
    expect(deployment.metadata.annotations).toMatchObject({ 'flotilla.io/version': v1, 'flotilla.io/weight': '100' });
    expect(deployment.spec?.template?.metadata?.labels?.['flotilla.io/revision']).toBe('1');
    expect(deployment.spec?.template?.spec.containers[0].image).toBe(`${IMAGE[template]}:${v1}`);

    const ingresses = all(one, 'Ingress');
    expect(ingresses.map((i) => i.metadata.name)).toEqual(['shop-one']);
    expect(ingresses[0].spec).toMatchObject({ ingressClassName: 'nginx', rules: [{ host: 'shop-one.stores.example.com' }] });
    expect(backend(ingresses[0])).toBe('shop-one-r1');
    expect(find(one, 'Service', 'shop-one-preview')).toBeUndefined();
  });

  it('sends 10% to the second revision through an nginx canary Ingress (90/10)', () => {
    expect(all(canary, 'Deployment').map((d) => d.metadata.name)).toEqual(['shop-one-r1', 'shop-one-r2']);
    expect(backend(find(canary, 'Ingress', 'shop-one'))).toBe('shop-one-r1');
    const canaryIngress = find(canary, 'Ingress', 'shop-one-canary');
    expect(canaryIngress?.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '10',
    });
    expect(canaryIngress?.spec).toMatchObject({ ingressClassName: 'nginx', rules: [{ host: 'shop-one.stores.example.com' }] });
    expect(backend(canaryIngress)).toBe('shop-one-r2');
    expect(find(canary, 'Service', 'shop-one-r2')?.spec).toMatchObject({ selector: { 'flotilla.io/revision': '2', 'app.kubernetes.io/component': 'app' } });
    expect(find(canary, 'Service', 'shop-one-preview')).toBeUndefined();
  });

  it('runs a weight-0 revision without traffic behind the preview Service (100/0)', () => {
    expect(all(blueGreen, 'Deployment').map((d) => d.metadata.name)).toEqual(['shop-one-r1', 'shop-one-r2']);
    expect(all(blueGreen, 'Ingress').map((i) => i.metadata.name)).toEqual(['shop-one']);
    expect(backend(find(blueGreen, 'Ingress', 'shop-one'))).toBe('shop-one-r1');
    expect(find(blueGreen, 'Service', 'shop-one-preview')?.spec).toMatchObject({ selector: { 'flotilla.io/revision': '2' } });
  });

  it('switches blue/green by swapping the weights (0/100)', () => {
    expect(backend(find(switched, 'Ingress', 'shop-one'))).toBe('shop-one-r2');
    expect(find(switched, 'Ingress', 'shop-one-canary')).toBeUndefined();
    expect(find(switched, 'Service', 'shop-one-preview')?.spec).toMatchObject({ selector: { 'flotilla.io/revision': '1' } });
  });

  it('gives every container requests, limits and the hardened security context', () => {
    for (const objects of [one, canary]) {
      for (const { owner, spec } of podSpecs(objects)) {
        expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        expect(spec.securityContext?.runAsNonRoot).toBe(true);
        for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
          const where = `${owner} ${container.name}`;
          expect({ where, cpu: container.resources?.requests?.cpu, memory: container.resources?.requests?.memory }).toEqual({ where, cpu: expect.any(String), memory: expect.any(String) });
          expect({ where, cpu: container.resources?.limits?.cpu, memory: container.resources?.limits?.memory }).toEqual({ where, cpu: expect.any(String), memory: expect.any(String) });
          expect({ where, ...container.securityContext }).toMatchObject({
            where,
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          expect(container.securityContext?.capabilities?.add).toBeUndefined();
          expect(container.securityContext?.privileged).not.toBe(true);
        }
      }
    }
  });

  it('probes every long-running container for readiness and liveness', () => {
    const running = podSpecs(canary).filter((p) => p.kind !== 'Job');
    expect(running.length).toBeGreaterThanOrEqual(3);
    for (const { owner, spec } of running) {
      for (const container of spec.containers) {
        expect({ at: `${owner} ${container.name}`, readiness: Boolean(container.readinessProbe), liveness: Boolean(container.livenessProbe) }).toEqual({
          at: `${owner} ${container.name}`,
          readiness: true,
          liveness: true,
        });
      }
    }
  });

  it('labels every object and pod with the app.kubernetes.io labels and the store', () => {
    for (const object of canary) {
      expect({ object: `${object.kind}/${object.metadata.name}`, ...object.metadata.labels }).toMatchObject({
        object: `${object.kind}/${object.metadata.name}`,
        'app.kubernetes.io/name': template,
        'app.kubernetes.io/instance': 'shop-one',
        'app.kubernetes.io/part-of': 'flotilla',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/component': expect.any(String),
        'flotilla.io/store': 'shop-one',
      });
    }
    for (const { owner, labels } of podSpecs(canary)) {
      expect({ owner, ...labels }).toMatchObject({ owner, 'flotilla.io/store': 'shop-one', 'app.kubernetes.io/instance': 'shop-one' });
    }
  });

  it('keeps databases in StatefulSets with volumes of the configured class', () => {
    const statefulSets = all(one, 'StatefulSet');
    expect(statefulSets.length).toBe(template === 'medusa' ? 2 : 1);
    for (const set of statefulSets) {
      const claims = set.spec?.volumeClaimTemplates as Array<{ spec: { storageClassName?: string; resources: { requests: { storage: string } } } }>;
      expect(claims).toHaveLength(1);
      expect(claims[0].spec.storageClassName).toBe('fast-ssd');
      expect(claims[0].spec.resources.requests.storage).toMatch(/^[0-9]+Gi$/);
    }
    for (const set of all(canary, 'StatefulSet')) {
      const claims = set.spec?.volumeClaimTemplates as Array<{ spec: Record<string, unknown> }>;
      expect(claims[0].spec).not.toHaveProperty('storageClassName');
    }
  });

  it("has a PodDisruptionBudget over the app's pods of every revision", () => {
    const [pdb] = all(canary, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': template, 'app.kubernetes.io/instance': 'shop-one', 'app.kubernetes.io/component': 'app' } },
    });
  });

  it('lets only the ingress controller reach the app, and only the app and install Job reach the databases', () => {
    const app = find(canary, 'NetworkPolicy', 'shop-one-app');
    expect(app?.spec).toMatchObject({
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'app' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] }],
    });
    const egress = JSON.stringify(app?.spec?.egress);
    expect(egress).toContain('"k8s-app":"kube-dns"');
    expect(egress).toContain('"app.kubernetes.io/component":"database"');
    const database = find(canary, 'NetworkPolicy', 'shop-one-database');
    const sources = (database?.spec?.ingress as Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }>)[0].from;
    expect(sources.map((s) => s.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(['app', 'install']);
  });

  it('keeps the secrets in the Secret: no secret value appears anywhere else', () => {
    const secret = find(canary, 'Secret', 'shop-one-secrets') as K8sObject;
    const decoded = Object.values(secret.data ?? {}).map((value) => Buffer.from(value, 'base64').toString('utf8'));
    const others = JSON.stringify(canary.filter((o) => o.kind !== 'Secret'));
    for (const [key, value] of Object.entries(SECRETS[template])) {
      // WordPress's salt seed is stored only as the eight keys and salts derived from it.
      if (key !== 'authSalt') expect({ key, stored: decoded.some((d) => d.includes(value) || d.includes(encodeURIComponent(value))) }).toEqual({ key, stored: true });
      expect(others).not.toContain(value);
      expect(others).not.toContain(Buffer.from(value).toString('base64'));
    }
  });

  // WordPress only: Medusa has no keys derived from a seed.
  if (template === 'wordpress') it("derives WordPress's keys and salts from the seed, the same on every rendering", async () => {
    const keys = (objects: K8sObject[]): Record<string, string> =>
      Object.fromEntries(Object.entries(find(objects, 'Secret', 'shop-one-secrets')?.data ?? {}).filter(([key]) => key.startsWith('wordpress-')));
    expect(Object.keys(keys(canary))).toHaveLength(8);
    for (const value of Object.values(keys(canary))) expect(Buffer.from(value, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(keys(canary))).size).toBe(8);
    expect(keys(blueGreen)).toEqual(keys(canary));
    const reseeded = await render(template, values(template, [{ revision: 1, version: v1, replicas: 1, weight: 100 }], { secrets: { ...SECRETS.wordpress, authSalt: 'another-seed-0123456789' } }));
    expect(keys(reseeded)['wordpress-auth-key']).not.toBe(keys(canary)['wordpress-auth-key']);
    const deployment = find(canary, 'Deployment', 'shop-one-r1') as K8sObject;
    const env = deployment.spec?.template?.spec.containers[0].env?.map((e) => e.name) ?? [];
    expect(env).toEqual(expect.arrayContaining(['WORDPRESS_AUTH_KEY', 'WORDPRESS_NONCE_SALT', 'WORDPRESS_DB_PASSWORD']));
  });

  it.each(STORE_SECRET_KEYS[template])('fails to render without secrets.%s', async (key) => {
    const input = values(template, [{ revision: 1, version: v1, replicas: 1, weight: 100 }]);
    delete (input.secrets as Record<string, string>)[key];
    expect(await renderError(template, input)).toContain(`secrets.${key} is required`);
  });

  it('declares in its schema exactly the secrets the driver passes, in the same alphabet', () => {
    const schema = JSON.parse(readFileSync(join(chartsDir, template, 'values.schema.json'), 'utf8'));
    expect(Object.keys(schema.properties.secrets.properties).sort()).toEqual([...STORE_SECRET_KEYS[template]].sort());
    const { pattern, minLength, maxLength } = schema.definitions.secret;
    const chartAccepts = (s: string): boolean => new RegExp(pattern).test(s) && s.length >= minLength && s.length <= maxLength;
    for (const sample of ['a'.repeat(16), 'a'.repeat(15), 'a'.repeat(256), 'a'.repeat(257), 'abc+/=_.~-0123456789', 'with space 0123456789', "quote'0123456789", 'dollar$0123456789']) {
      expect({ sample, accepted: chartAccepts(sample) }).toEqual({ sample, accepted: STORE_SECRET_PATTERN.test(sample) });
    }
  });

  it('refuses weights that do not add up to 100 and hosts that are not DNS names', async () => {
    const base = values(template, [{ revision: 1, version: v1, replicas: 1, weight: 100 }]);
    expect(await renderError(template, { ...base, revisions: [{ revision: 1, version: v1, replicas: 1, weight: 60 }, { revision: 2, version: v2, replicas: 1, weight: 30 }] })).toContain(
      'the weights add up to 90, not 100',
    );
    expect(await renderError(template, { ...base, host: "shop.example.com'); DROP TABLE x; --" })).toContain('host: Does not match pattern');
  });
});
