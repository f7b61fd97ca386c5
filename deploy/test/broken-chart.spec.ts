import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkChart } from './support/check-chart.js';
import { serviceEnvs, type ServiceEnv } from './support/env.js';
import { CHART } from './support/paths.js';

/**
 * The checks that guard the chart fail on a broken one: each case copies the chart to a
 * temporary directory, breaks one thing, and expects the problem to be named. The real
 * chart passes the same checks (first case), so each failure comes from the defect.
 */
describe('the chart checks on a deliberately broken chart', () => {
  const dirs: string[] = [];
  let envs: ServiceEnv[];

  beforeAll(async () => {
    envs = await serviceEnvs();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the chart with `edit(file text)` applied to `file` (relative to the chart). */
  function brokenChart(file: string, edit: (text: string) => string): string {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-chart-'));
    dirs.push(dir);
    const chart = join(dir, 'flotilla');
    cpSync(CHART, chart, { recursive: true });
    const path = join(chart, file);
    const before = readFileSync(path, 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`the edit of ${file} changed nothing: the test no longer breaks the chart`);
    writeFileSync(path, after);
    return chart;
  }

  it('passes them all unbroken', async () => {
    expect(await checkChart(brokenChart('values-prod.yaml', (t) => `${t}\n# unchanged\n`), 'values-prod.yaml', 'flotilla-prod', envs)).toEqual([]);
  });

  it('fails on a template error in a subchart', async () => {
    const chart = brokenChart('charts/upload/templates/service.yaml', (t) => t.replace('{{ include "flotilla.service" . }}', '{{ include "flotilla.service" . }\n'));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems.join('\n')).toMatch(/helm lint --strict: .*upload/);
    expect(problems.join('\n')).toMatch(/helm template failed: .*charts\/upload\/templates\/service\.yaml/);
  });

  it('fails when the readiness probe is missing', async () => {
    const chart = brokenChart('templates/_service-workloads.tpl', (t) => t.replace(/ {10}# Every dependency answers[^\n]*\n {10}readinessProbe:\n(?: {12}[^\n]*\n)+/, ''));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems).toEqual(expect.arrayContaining(['Deployment flotilla-gateway container gateway: no readinessProbe', 'Deployment flotilla-admin container admin: no readinessProbe']));
    expect(problems.filter((p) => p.endsWith('no readinessProbe'))).toHaveLength(6);
  });

  it('fails on a misspelt field, which the API server would silently drop', async () => {
    const chart = brokenChart('templates/_service-workloads.tpl', (t) => t.replace('livenessProbe:\n', 'livenesProbe:\n'));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems).toContain('Deployment flotilla-validator: unknown field spec.template.spec.containers[0].livenesProbe');
    expect(problems).toContain('Deployment flotilla-validator container validator: no livenessProbe');
  });

  it('fails on a value of the wrong type', async () => {
    const chart = brokenChart('templates/_service-workloads.tpl', (t) => t.replace('containerPort: {{ .Values.port }}', 'containerPort: {{ .Values.port | quote }}'));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems.join('\n')).toMatch(/Deployment flotilla-gateway: .*containerPort must be integer/);
  });

  it('fails when a container has no limits', async () => {
    const chart = brokenChart('charts/vote-consumer/values.yaml', (t) => t.replace(/\n {2}limits: [^\n]*/, ''));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems).toEqual(['Deployment flotilla-vote-consumer container vote-consumer: no cpu limits', 'Deployment flotilla-vote-consumer container vote-consumer: no memory limits']);
  });

  it('fails when containers may write their root filesystem', async () => {
    const chart = brokenChart('values-prod.yaml', (t) => t.replace('global:\n', 'global:\n  containerSecurityContext:\n    readOnlyRootFilesystem: false\n'));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems).toContain('Deployment flotilla-gateway container gateway: root filesystem not read-only');
    expect(problems).toContain('Job flotilla-admin-migrate-1 container migrate: root filesystem not read-only');
  });

  it('fails when a service misses a variable it requires, or gets one it does not read', async () => {
    const chart = brokenChart('charts/gateway/values.yaml', (t) => t.replace('secretEnv: [JWT_SECRET, ADMIN_PASSWORD]', 'secretEnv: [ADMIN_PASSWORD, JWT_SECRETS]'));
    const problems = await checkChart(chart, 'values-prod.yaml', 'flotilla-prod', envs);
    expect(problems).toEqual(expect.arrayContaining(['gateway: JWT_SECRET is not set', 'gateway: sets JWT_SECRETS, which it does not read']));
  });
});
