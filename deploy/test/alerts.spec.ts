import { beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TARGET_LABELS, matcherProblem, matchersIn, recordedLabels, type MetricLabels } from './support/labels.js';
import { readYaml } from './support/manifests.js';
import { metricsIn } from './support/metrics.js';
import { RULE_TESTS, grafanaExpanded, panelQueries, promtool, ruleGroups, tempDir, type Rule, type RuleGroup } from './support/promtool.js';

interface RuleTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

/** Writes rule groups to a rule file in a fresh directory; returns the file. */
function ruleFile(groups: RuleGroup[], dir = tempDir('rules')): string {
  const file = join(dir, 'flotilla-rules.yaml');
  writeFileSync(file, stringify({ groups }));
  return file;
}

describe('alert rules and dashboards, checked with promtool and against what the code records', () => {
  let groups: RuleGroup[];
  let rules: Rule[];
  let labels: Map<string, MetricLabels>;
  beforeAll(() => {
    groups = ruleGroups();
    rules = groups.flatMap((g) => g.rules);
    labels = recordedLabels();
  });
  const queries = () => [
    ...rules.map((r) => ({ where: r.alert ?? r.record!, expr: r.expr })),
    ...panelQueries().map((q) => ({ where: `${q.file} "${q.panel}"`, expr: q.expr })),
  ];

  it('matches only label values the code can record, in every rule and panel', () => {
    const problems = queries().flatMap(({ where, expr }) => matchersIn(expr).flatMap((m) => matcherProblem(m, labels) ?? []).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('aggregates only by labels the series it reads carry', () => {
    const recorded = new Map(rules.filter((r) => r.record).map((r) => [r.record!, r.expr]));
    const labelsOf = (expr: string): string[] =>
      metricsIn(expr).flatMap((m) => (recorded.has(m) ? labelsOf(recorded.get(m)!) : [...(labels.get(m)?.labels ?? [])]));
    const problems: string[] = [];
    for (const { where, expr } of queries()) {
      const have = new Set([...labelsOf(expr), ...TARGET_LABELS, 'le']);
      for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
        for (const label of m[1].split(',').map((l) => l.trim()).filter(Boolean)) if (!have.has(label)) problems.push(`${where}: by (${label})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', ruleFile(groups)]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status).toBe(0);
  });

  it('parses every dashboard query (each as a recording rule promtool checks)', () => {
    const all = panelQueries();
    expect(all.length).toBeGreaterThan(20);
    const file = ruleFile([{ name: 'dashboards', rules: all.map((q, i) => ({ record: `dashboard:query_${i}`, expr: grafanaExpanded(q.expr) })) }]);
    const { status, output } = promtool(['check', 'rules', file]);
    expect(output).toContain(`SUCCESS: ${all.length} rules found`);
    expect(status).toBe(0);
  });

  it('passes promtool test rules, with a case where each alert fires and one where it stays silent', () => {
    const files = readdirSync(RULE_TESTS).filter((f) => f.endsWith('.yaml'));
    const dir = tempDir('rule-tests');
    ruleFile(groups, dir);
    const cases = new Map<string, { fires: number; silent: number }>();
    for (const file of files) {
      const test = readYaml<RuleTestFile>(join(RULE_TESTS, file));
      expect(test.rule_files).toEqual(['flotilla-rules.yaml']);
      for (const t of test.tests.flatMap((x) => x.alert_rule_test ?? [])) {
        const c = cases.get(t.alertname) ?? { fires: 0, silent: 0 };
        if (t.exp_alerts.length > 0) c.fires++;
        else c.silent++;
        cases.set(t.alertname, c);
      }
      copyFileSync(join(RULE_TESTS, file), join(dir, file));
    }
    for (const alert of rules.filter((r) => r.alert).map((r) => r.alert!)) {
      expect(`${alert}: ${JSON.stringify(cases.get(alert))}`).toMatch(new RegExp(`^${alert}: \\{"fires":[1-9]\\d*,"silent":[1-9]\\d*\\}$`));
    }
    const { status, output } = promtool(['test', 'rules', ...files], dir);
    expect(output).not.toContain('FAILED');
    expect(status).toBe(0);
  });

  it('would notice a value the code never records, a query that does not parse and a rule test that fails', () => {
    expect(matcherProblem({ metric: 'rpc_duration_seconds_count', label: 'outcome', op: '=', value: 'TIMEOUT' }, labels)).toMatch(/TIMEOUT is never recorded/);
    expect(matcherProblem({ metric: 'rpc_duration_seconds_count', label: 'outcome', op: '=', value: 'timeout' }, labels)).toBeUndefined();
    expect(matcherProblem({ metric: 'stores', label: 'status', op: '=~', value: 'failed|broken' }, labels)).toMatch(/broken is never recorded/);
    expect(matcherProblem({ metric: 'stores', label: 'state', op: '=', value: 'failed' }, labels)).toMatch(/has no label state/);
    expect(promtool(['check', 'rules', ruleFile([{ name: 'bad', rules: [{ record: 'bad:q', expr: 'sum(rate(up[5m])' }] }])]).status).not.toBe(0);
    const dir = tempDir('failing-rule-test');
    ruleFile(groups, dir);
    const wrong = {
      rule_files: ['flotilla-rules.yaml'],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: [{ series: 'up{job="gateway", instance="a", namespace="n"}', values: '1x10' }], alert_rule_test: [{ eval_time: '5m', alertname: 'FlotillaServiceDown', exp_alerts: [{ exp_labels: { severity: 'critical', job: 'gateway', instance: 'a', namespace: 'n' } }] }] }],
    };
    writeFileSync(join(dir, 'wrong.yaml'), stringify(wrong));
    expect(promtool(['test', 'rules', 'wrong.yaml'], dir).status).not.toBe(0);
  });
});
