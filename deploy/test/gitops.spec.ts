import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helmTemplate } from './support/helm.js';
import { byKind, readManifests, readYaml, type K8sObject } from './support/manifests.js';
import { balanced, metricsIn, recordedMetrics } from './support/metrics.js';
import { CHART, ROOT } from './support/paths.js';
import { allSchemaProblems } from './support/schema.js';

const ARGOCD = join(ROOT, 'deploy/argocd');
const K8S = join(ROOT, 'k8s');
const REPO = 'https://github.com/example-org/flotilla.git';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f) && !f.endsWith('kustomization.yaml'))
    .map((f) => join(dir, f));
}

describe('Argo CD (deploy/argocd)', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = yamlFiles(ARGOCD).flatMap((f) => readManifests(f));
  });
  const appSets = () => byKind(objects, 'ApplicationSet');

  it('validates every manifest against its schema', async () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['AppProject', 'AppProject', 'Application', 'Application', 'Application', 'ApplicationSet', 'ApplicationSet']);
    expect(await allSchemaProblems(objects)).toEqual([]);
  });

  it('has an ApplicationSet per environment with a pinned revision, prune, self-heal and retry with backoff', () => {
    expect(appSets().map((a) => a.metadata.name).sort()).toEqual(['flotilla-dev', 'flotilla-prod']);
    for (const set of appSets()) {
      const env = set.metadata.name.replace('flotilla-', '');
      const [element] = set.spec.generators[0].list.elements;
      expect(element).toMatchObject({ env, namespace: `flotilla-${env}`, valuesFile: `values-${env}.yaml` });
      // A release tag or a commit, never a moving branch.
      expect(element.revision).toMatch(/^(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
      const spec = set.spec.template.spec;
      expect(spec.project).toBe('flotilla');
      expect(spec.source).toMatchObject({ repoURL: REPO, targetRevision: '{{.revision}}', path: 'deploy/helm/flotilla', helm: { releaseName: 'flotilla', valueFiles: ['{{.valuesFile}}'] } });
      expect(existsSync(join(ROOT, spec.source.path, element.valuesFile))).toBe(true);
      expect(spec.destination.namespace).toBe('{{.namespace}}');
      expect(spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(spec.syncPolicy.retry).toMatchObject({ limit: expect.any(Number), backoff: { duration: expect.any(String), factor: 2, maxDuration: expect.any(String) } });
    }
  });

  it('keeps the root app (app of apps) in an administrators-only project', () => {
    const root = objects.find((o) => o.kind === 'Application' && o.metadata.name === 'flotilla-root')!;
    expect(root.spec.source.path).toBe('deploy/argocd/apps');
    expect(existsSync(join(ROOT, root.spec.source.path))).toBe(true);
    expect(root.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(root.spec.syncPolicy.retry.backoff).toBeDefined();
    const project = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === root.spec.project)!;
    // Administrators, and CD's deployer, which may only look at and sync the root app (deploy/test/cd-argocd.spec.ts).
    expect(project.spec.roles.map((r: { name: string }) => r.name).sort()).toEqual(['admin', 'deployer']);
    expect(project.spec.roles.find((r: { name: string }) => r.name === 'admin').groups).toEqual(['flotilla-admins']);
    expect(project.spec.roles.find((r: { name: string }) => r.name === 'deployer').groups).toBeUndefined();
    // The environments' project cannot create Argo CD objects: only the root can.
    const envProject = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === 'flotilla')!;
    expect(envProject.spec.namespaceResourceWhitelist.some((r: { group: string }) => r.group === 'argoproj.io')).toBe(false);
  });

  it("lets the environments' project deploy every kind the chart renders, into the environments' namespaces only", () => {
    const project = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === 'flotilla')!;
    const allowed = new Set([...project.spec.namespaceResourceWhitelist, ...project.spec.clusterResourceWhitelist].map((r: { group: string; kind: string }) => `${r.group}/${r.kind}`));
    for (const set of appSets()) {
      const [element] = set.spec.generators[0].list.elements;
      expect(project.spec.destinations).toContainEqual({ server: 'https://kubernetes.default.svc', namespace: element.namespace });
      for (const o of helmTemplate(CHART, join(CHART, element.valuesFile), element.namespace)) {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
        expect(`${group}/${o.kind}: ${allowed.has(`${group}/${o.kind}`)}`).toBe(`${group}/${o.kind}: true`);
      }
    }
    expect(project.spec.sourceRepos).toEqual([REPO]);
  });

  it('bootstraps the cluster from k8s/ and the dashboards with Kustomize', () => {
    const apps = byKind(objects, 'Application');
    expect(apps.find((a) => a.metadata.name === 'flotilla-cluster')!.spec.source.path).toBe('k8s');
    expect(apps.find((a) => a.metadata.name === 'flotilla-dashboards')!.spec.source.path).toBe('k8s/monitoring/dashboards');
  });
});

describe('cluster bootstrap (k8s/)', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = yamlFiles(K8S).flatMap((f) => readManifests(f));
  });

  it('validates every manifest against its schema', async () => {
    expect(objects.length).toBeGreaterThan(3);
    expect(await allSchemaProblems(objects)).toEqual([]);
  });

  it('creates the environments\' namespaces with Pod Security "restricted" and denies all traffic there by default', () => {
    const namespaces = byKind(objects, 'Namespace').map((n) => n.metadata.name);
    expect(namespaces).toEqual(['flotilla-dev', 'flotilla-prod']);
    for (const ns of byKind(objects, 'Namespace')) expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const ns of namespaces) {
      const deny = byKind(objects, 'NetworkPolicy').find((p) => p.metadata.namespace === ns);
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
  });

  describe('alerts and dashboards', () => {
    const { names, prefixes } = recordedMetrics();
    const known = (metric: string, recorded: Set<string>) => names.has(metric) || recorded.has(metric) || prefixes.some((p) => metric.startsWith(p));
    let rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> }[];
    let recorded: Set<string>;
    beforeAll(() => {
      const rule = byKind(objects, 'PrometheusRule')[0];
      rules = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules);
      recorded = new Set(rules.filter((r) => r.record).map((r) => r.record!));
    });

    it('finds the metrics the services record in their source', () => {
      for (const metric of ['http_requests_total', 'http_request_duration_seconds_bucket', 'validation_queue_length', 'vote_stream_lag', 'dead_letters_total', 'store_provisioning_duration_seconds_count', 'stores', 'outbox_pending']) {
        expect(names).toContain(metric);
      }
    });

    it('alerts on error rate, p95 latency, validation backlog, vote-stream lag, dead letters, a service down and provisioning failures', () => {
      const alerts = rules.filter((r) => r.alert);
      const on = (metric: string) => alerts.filter((a) => metricsIn(a.expr).some((m) => m === metric || [...recorded].some((r) => r === m && rules.find((x) => x.record === r)!.expr.includes(metric))));
      expect(on('http_requests_total').map((a) => a.alert)).toContain('FlotillaHighErrorRate');
      expect(on('http_request_duration_seconds_bucket').map((a) => a.alert)).toContain('FlotillaHighLatencyP95');
      expect(on('validation_queue_length')).toHaveLength(1);
      expect(on('vote_stream_lag')).toHaveLength(1);
      expect(on('dead_letters_total')).toHaveLength(1);
      expect(on('up').map((a) => a.alert).sort()).toEqual(['FlotillaServiceAbsent', 'FlotillaServiceDown']);
      expect(on('store_provisioning_duration_seconds_count').map((a) => a.alert)).toContain('FlotillaProvisioningFailures');
      for (const alert of alerts) expect(alert.labels?.severity).toMatch(/^(critical|warning)$/);
    });

    it('builds every rule on metrics the services record', () => {
      for (const rule of rules) {
        expect(balanced(rule.expr)).toBe(true);
        for (const metric of metricsIn(rule.expr)) expect(`${rule.alert ?? rule.record}: ${metric} ${known(metric, recorded)}`).toBe(`${rule.alert ?? rule.record}: ${metric} true`);
      }
    });

    it('builds every dashboard panel on metrics the services record, and packages each dashboard', () => {
      const dir = join(K8S, 'monitoring/dashboards');
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      expect(files.length).toBeGreaterThanOrEqual(3);
      const kustomization = readYaml(join(dir, 'kustomization.yaml'));
      expect(kustomization.configMapGenerator.flatMap((g: { files: string[] }) => g.files).sort()).toEqual(files.sort());
      expect(kustomization.generatorOptions.labels.grafana_dashboard).toBe('1');
      const uids = new Set<string>();
      for (const file of files) {
        const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        expect(dashboard.title).toMatch(/^Flotilla/);
        uids.add(dashboard.uid);
        const panels = dashboard.panels.filter((p: { type: string }) => p.type !== 'row');
        expect(panels.length).toBeGreaterThan(3);
        for (const panel of panels) {
          expect(panel.datasource.uid).toBe('${datasource}');
          expect(panel.targets.length).toBeGreaterThan(0);
          for (const target of panel.targets) {
            expect(balanced(target.expr)).toBe(true);
            for (const metric of metricsIn(target.expr)) expect(`${file} "${panel.title}": ${metric} ${known(metric, new Set())}`).toBe(`${file} "${panel.title}": ${metric} true`);
          }
        }
      }
      expect(uids.size).toBe(files.length);
    });

    it('would notice a metric that no service records', () => {
      expect(metricsIn('sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_request_totals[5m]))')).toEqual(['http_requests_total', 'http_request_totals']);
      expect(known('http_request_totals', new Set())).toBe(false);
    });
  });
});
