import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { byKind, readManifests } from './manifests.js';
import { ROOT } from './paths.js';

export const RULES_FILE = join(ROOT, 'k8s/monitoring/prometheus-rules.yaml');
export const DASHBOARDS = join(ROOT, 'k8s/monitoring/dashboards');
/** The promtool unit tests of the rules; they name the rules as `flotilla-rules.yaml`. */
export const RULE_TESTS = join(ROOT, 'deploy/test/alerts');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** Where an executable is on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A binary of Debian's `prometheus` package (promtool or prometheus); its absence fails the test that needs it. */
export function prometheusBinary(name: 'promtool' | 'prometheus'): string {
  const path = process.env[`${name.toUpperCase()}_PATH`] || onPath(name);
  if (!path) {
    throw new Error(
      `${name} is not on PATH: npm test installs it (scripts/lib/promtool.sh, Debian's "prometheus" package); ` +
        `by hand: apt-get install --no-install-recommends prometheus, or set ${name.toUpperCase()}_PATH`,
    );
  }
  return path;
}

export function promtool(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const result = spawnSync(prometheusBinary('promtool'), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The rule groups of the PrometheusRule, as a plain Prometheus rule file would hold them. */
export function ruleGroups(): RuleGroup[] {
  const [rule] = byKind(readManifests(RULES_FILE), 'PrometheusRule');
  return rule.spec.groups as RuleGroup[];
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `flotilla-${prefix}-`));
}

export interface PanelQuery {
  file: string;
  panel: string;
  expr: string;
}

/** Every panel query of every dashboard, and the templating queries (`label_values(…)` is Grafana's, not PromQL). */
export function panelQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8'));
    for (const panel of dashboard.panels ?? []) for (const target of panel.targets ?? []) out.push({ file, panel: panel.title, expr: target.expr });
    for (const variable of dashboard.templating?.list ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      const inner = variable.type === 'query' ? /^label_values\((.*),\s*\w+\)$/.exec(query ?? '')?.[1] : undefined;
      if (inner) out.push({ file, panel: `variable ${variable.name}`, expr: inner });
    }
  }
  return out;
}

/** A panel query as Prometheus sees it once Grafana has put its variables in. */
export function grafanaExpanded(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?namespace\}?/g, '.+');
}
