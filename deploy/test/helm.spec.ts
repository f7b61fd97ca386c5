import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { helmLint, helmTemplate } from './support/helm.js';
import { annotation, byKind, podSpec, type K8sObject } from './support/manifests.js';
import { CHART, SERVICES, VALUES_FILES } from './support/paths.js';
import { policyViolations } from './support/policy.js';
import { allSchemaProblems } from './support/schema.js';
import { serviceEnvs, type ServiceEnv } from './support/env.js';

const NAMESPACE = { 'values.yaml': 'flotilla', 'values-dev.yaml': 'flotilla-dev', 'values-prod.yaml': 'flotilla-prod' } as const;
const WAVE = 'argocd.argoproj.io/sync-wave';

describe('the umbrella chart deploy/helm/flotilla, with the pinned Helm', () => {
  const rendered = new Map<string, K8sObject[]>();

  beforeAll(() => {
    for (const file of VALUES_FILES) rendered.set(file, helmTemplate(CHART, join(CHART, file), NAMESPACE[file]));
  });

  describe.each(VALUES_FILES)('with %s', (file) => {
    it('passes helm lint --strict', () => {
      const result = helmLint(CHART, join(CHART, file));
      expect({ status: result.status, output: result.stdout + result.stderr }).toMatchObject({ status: 0 });
      expect(result.stdout).toContain('0 chart(s) failed');
    });

    it('renders objects that all validate against their schemas', async () => {
      const objects = rendered.get(file)!;
      expect(objects.length).toBeGreaterThan(20);
      expect(await allSchemaProblems(objects)).toEqual([]);
    });

    it('gives every container requests and limits, probes, non-root and a read-only root filesystem', () => {
      expect(policyViolations(rendered.get(file)!)).toEqual([]);
    });

    it('renders every object once, in its release namespace or cluster-wide', () => {
      const objects = rendered.get(file)!;
      const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(keys.length).toBe(new Set(keys).size);
      for (const o of objects) expect(o.metadata.namespace ?? NAMESPACE[file]).toBe(NAMESPACE[file]);
    });
  });

  describe('values-prod.yaml', () => {
    let objects: K8sObject[];
    beforeAll(() => {
      objects = rendered.get('values-prod.yaml')!;
    });
    const named = (kind: string, name: string): K8sObject => {
      const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
      if (!found) throw new Error(`no ${kind} ${name} rendered`);
      return found;
    };

    it.each(SERVICES.map((s) => [s.name, s.port] as const))('renders %s with probes on its health routes, resources, HPA, PDB and NetworkPolicy', (name, port) => {
      const deployment = named('Deployment', `flotilla-${name}`);
      expect(annotation(deployment, WAVE)).toBe('0');
      const container = podSpec(deployment).containers[0];
      expect(container.image).toMatch(new RegExp(`-${name}:[\\w.-]+$`));
      expect(container.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(container.startupProbe.httpGet).toEqual({ path: '/health/startup', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(podSpec(deployment).volumes).toContainEqual({ name: 'tmp', emptyDir: expect.any(Object) });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });

      const selector = deployment.spec.selector.matchLabels;
      const hpa = named('HorizontalPodAutoscaler', `flotilla-${name}`);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `flotilla-${name}` });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns it
      expect(named('PodDisruptionBudget', `flotilla-${name}`).spec.selector.matchLabels).toEqual(selector);
      const policy = named('NetworkPolicy', `flotilla-${name}`);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) expect(selector[k]).toBe(v);
      expect(named('Service', `flotilla-${name}`).spec.selector).toEqual(selector);
      const monitor = named('ServiceMonitor', `flotilla-${name}`);
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
      expect(monitor.spec.jobLabel).toBe('app.kubernetes.io/name');
    });

    it('lets only the admin reach webhook receivers and SMTP servers', () => {
      const ports = (name: string): number[] =>
        named('NetworkPolicy', `flotilla-${name}`).spec.egress.flatMap((rule: { ports?: Array<{ port: number }> }) => (rule.ports ?? []).map((p) => p.port));
      expect(ports('admin')).toEqual(expect.arrayContaining([443, 80, 587, 465, 25]));
      for (const name of SERVICES.map((s) => s.name).filter((n) => n !== 'admin')) expect(ports(name)).not.toContain(587);
    });

    it.each(SERVICES.map((s) => s.name))('runs the migrations of %s in a Sync hook Job in wave -1, with the service image and MIGRATE_ONLY=true', (name) => {
      const jobs = byKind(objects, 'Job').filter((j) => j.metadata.labels?.['app.kubernetes.io/name'] === name);
      expect(jobs).toHaveLength(1);
      const [job] = jobs;
      expect(annotation(job, 'argocd.argoproj.io/hook')).toBe('Sync');
      expect(annotation(job, 'argocd.argoproj.io/hook-delete-policy')).toBe('BeforeHookCreation');
      expect(annotation(job, WAVE)).toBe('-1');
      const container = podSpec(job).containers[0];
      expect(container.image).toBe(podSpec(named('Deployment', `flotilla-${name}`)).containers[0].image);
      expect(container.env).toContainEqual({ name: 'MIGRATE_ONLY', value: 'true' });
      expect(podSpec(job).restartPolicy).toBe('Never');
    });

    it('puts configuration in wave -2, the migrations in -1, the workloads in 0', () => {
      for (const kind of ['ConfigMap', 'ExternalSecret', 'ServiceAccount', 'NetworkPolicy', 'ClusterRole', 'ClusterRoleBinding']) {
        const found = byKind(objects, kind);
        expect(found.length).toBeGreaterThan(0);
        for (const o of found) expect(`${kind}/${o.metadata.name}: ${annotation(o, WAVE)}`).toBe(`${kind}/${o.metadata.name}: -2`);
      }
      for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress', 'ServiceMonitor']) {
        for (const o of byKind(objects, kind)) expect(`${kind}/${o.metadata.name}: ${annotation(o, WAVE)}`).toBe(`${kind}/${o.metadata.name}: 0`);
      }
      expect(byKind(objects, 'Secret')).toEqual([]); // production: External Secrets writes it
    });

    it('routes the API to the gateway and the console to admin, with rate limits and security headers', () => {
      const paths = (name: string) => named('Ingress', `flotilla-${name}`).spec.rules[0].http.paths.map((p: { path: string; backend: { service: { name: string } } }) => [p.path, p.backend.service.name]);
      expect(paths('gateway')).toEqual([['/api', 'flotilla-gateway']]);
      expect(paths('admin')).toEqual([['/admin', 'flotilla-admin']]);
      for (const name of ['gateway', 'admin']) {
        const ingress = named('Ingress', `flotilla-${name}`);
        expect(Number(annotation(ingress, 'nginx.ingress.kubernetes.io/limit-rps'))).toBeGreaterThan(0);
        expect(annotation(ingress, 'nginx.ingress.kubernetes.io/custom-headers')).toBe('flotilla-prod/flotilla-security-headers');
        expect(ingress.spec.tls[0].secretName).toBeTruthy();
      }
      const headers = named('ConfigMap', 'flotilla-security-headers').data!;
      expect(Object.keys(headers)).toEqual(expect.arrayContaining(['Strict-Transport-Security', 'X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy']));
    });

    it('gives only the provisioner a token (its RBAC: rbac.spec.ts)', () => {
      for (const { name } of SERVICES) {
        const spec = podSpec(named('Deployment', `flotilla-${name}`));
        expect(`${name}: ${spec.automountServiceAccountToken}`).toBe(`${name}: ${name === 'provisioner'}`);
        expect(spec.serviceAccountName).toBe(`flotilla-${name}`);
      }
    });
  });

  describe('environment', () => {
    let envs: ServiceEnv[];
    beforeAll(async () => {
      envs = await serviceEnvs();
    });

    it.each(VALUES_FILES)('with %s, sets every variable each service requires and none it does not read', (file) => {
      const objects = rendered.get(file)!;
      for (const env of envs) {
        const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `flotilla-${env.service}`)!;
        const container = podSpec(deployment).containers[0];
        const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === container.envFrom[0].configMapRef.name)!;
        const set = [...Object.keys(configMap.data ?? {}), ...container.env.map((e: { name: string }) => e.name)];
        expect({ service: env.service, missing: env.required.filter((k) => !set.includes(k)) }).toEqual({ service: env.service, missing: [] });
        // OTEL_* are OpenTelemetry's own variables, read by its SDK (docs/TRACING.md), not by the service's settings.
        expect({ service: env.service, unknown: set.filter((k) => !(k in env.defaults) && !k.startsWith('OTEL_')) }).toEqual({ service: env.service, unknown: [] });
        expect(configMap.data!.HTTP_PORT).toBe(String(env.defaults.HTTP_PORT));
        for (const e of container.env) if (e.valueFrom) expect(e.valueFrom.secretKeyRef.name).toBe('flotilla-secrets');
      }
    });

    it('exports traces only when given a collector: OTEL_EXPORTER_OTLP_ENDPOINT, the service name and egress to its port', () => {
      const endpoint = 'http://otel-collector.observability:4318';
      const objects = helmTemplate(CHART, join(CHART, 'values-prod.yaml'), 'flotilla-prod', ['--set', `global.tracing.otlpEndpoint=${endpoint}`]);
      for (const { name } of SERVICES) {
        const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `flotilla-${name}`)!;
        expect(cm.data).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: name });
        const egress = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === `flotilla-${name}`)!.spec.egress;
        expect(egress).toContainEqual({ ports: [{ port: 4318, protocol: 'TCP' }] });
      }
      for (const file of VALUES_FILES) {
        for (const cm of byKind(rendered.get(file)!, 'ConfigMap')) expect(Object.keys(cm.data ?? {}).filter((k) => k.startsWith('OTEL_'))).toEqual([]);
      }
    });

    it('points the gateway at the admin service', () => {
      const cm = rendered.get('values-prod.yaml')!.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'flotilla-gateway')!;
      expect(cm.data!.ADMIN_URL).toBe('http://flotilla-admin:8086');
    });
  });

  it('puts no generated value in any Secret (no random functions in the templates)', () => {
    const templates = readdirSync(CHART, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|tpl)$/.test(f) && f.includes('templates'));
    for (const f of templates) expect(`${f}: ${/\b(rand\w*|uuidv4|genPrivateKey|genCA|genSelfSignedCert|derivePassword)\b/.exec(readFileSync(join(CHART, f), 'utf8'))?.[0] ?? 'none'}`).toBe(`${f}: none`);
  });
});
