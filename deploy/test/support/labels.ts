import { FINISHED_JOB_STATUSES, RpcErrorCodes } from '@flotilla/contracts';
import { readFileSync } from 'node:fs';
import { sourceFiles } from './metrics.js';
import { SERVICES } from './paths.js';

/** Labels Prometheus adds to every series of a target (the ServiceMonitors' job is the service's name). */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);
const JOBS = SERVICES.map((s) => s.name);

/**
 * Label values the source computes rather than spells out, and where the code takes them
 * from. A rule or panel that matches such a label by value needs an entry here.
 */
const COMPUTED: Record<string, () => string[]> = {
  // RpcClient.call and RpcServer record a failed call's RpcError code in lower case.
  'rpc_duration_seconds.outcome': () => RpcErrorCodes.map((c) => c.toLowerCase()),
  'rpc_server_duration_seconds.outcome': () => RpcErrorCodes.map((c) => c.toLowerCase()),
  // ValidationRunner records the finished job's status.
  'validation_duration_seconds.status': () => [...FINISHED_JOB_STATUSES],
  // The HTTP hook records String(reply.statusCode).
  'http_requests_total.status': () => Array.from({ length: 500 }, (_, i) => String(100 + i)),
  'http_request_duration_seconds.status': () => Array.from({ length: 500 }, (_, i) => String(100 + i)),
};
/** Labels whose values are open-ended (route templates, patterns, queue and template names): matched by name only. */
const FREE = new Set(['route', 'pattern', 'queue', 'template', 'method', 'service', 'reason', 'kind']);

export interface MetricLabels {
  labels: Set<string>;
  /** Literal values found at the recording sites, by label; `dynamic` holds labels also given computed values. */
  values: Map<string, Set<string>>;
  dynamic: Set<string>;
}

const DECLARATION = /\.(counter|gauge|histogram)(?:<[^>]*>)?\(\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
const literals = (text: string): string[] => [...text.matchAll(/'([^'\\]*)'/g)].map((m) => m[1]);

/**
 * Every metric created through MetricsService with its label names, and the values its
 * recording sites give each label: string literals in `inc`/`observe`/`set` calls of the
 * declaring file, literals assigned to a variable passed as the value, or the elements
 * of an array literal it iterates over. Anything else marks the label dynamic.
 */
export function recordedLabels(): Map<string, MetricLabels> {
  const out = new Map<string, MetricLabels>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    const declared: MetricLabels[] = [];
    const starts = [...text.matchAll(DECLARATION)];
    for (const [i, m] of starts.entries()) {
      const [, type, name] = m;
      // The declaration's own text: up to the next declaration, and not far.
      const block = text.slice(m.index, Math.min(starts[i + 1]?.index ?? text.length, m.index + 600));
      const labelNames = /labelNames:\s*\[([^\]]*)\]/.exec(block);
      const entry: MetricLabels = out.get(name) ?? { labels: new Set(labelNames ? literals(labelNames[1]) : []), values: new Map(), dynamic: new Set() };
      out.set(name, entry);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.set(name + suffix, entry);
      declared.push(entry);
    }
    if (declared.length === 0) continue;
    for (const call of text.matchAll(/\.(?:inc|observe|set)\(\{([^}]*)\}/g)) {
      for (const part of call[1].split(',').map((p) => p.trim()).filter(Boolean)) {
        const [key, value = key] = part.split(':').map((s) => s.trim());
        const found = value.startsWith("'") ? literals(value) : valuesOf(text, value);
        for (const entry of declared.filter((e) => e.labels.has(key))) {
          if (!entry.values.has(key)) entry.values.set(key, new Set());
          for (const v of found ?? []) entry.values.get(key)!.add(v);
          if (!value.startsWith("'") && (!found || /[^\s'?:|,]/.test(rhsOf(text, value).replace(/'[^']*'/g, '')))) entry.dynamic.add(key);
        }
      }
    }
  }
  return out;
}

/** The right-hand sides a variable is given in a file (assignments, or `of [...]` in a loop). */
function rhsOf(text: string, variable: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(variable)) return variable;
  const parts = [...text.matchAll(new RegExp(`\\b${variable}\\s*=(?!=)\\s*([^;\\n]+)`, 'g'))].map((m) => m[1]);
  parts.push(...[...text.matchAll(new RegExp(`\\b${variable}\\s+of\\s+\\[([^\\]]*)\\]`, 'g'))].map((m) => m[1].replace(/,/g, ' ')));
  return parts.join(' ') || variable;
}

function valuesOf(text: string, variable: string): string[] | undefined {
  const rhs = rhsOf(text, variable);
  const found = literals(rhs);
  return found.length > 0 ? found : undefined;
}

export interface Matcher {
  metric: string;
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The label matchers of every selector in an expression (Grafana variables left as they are). */
export function matchersIn(expr: string): Matcher[] {
  const out: Matcher[] = [];
  for (const sel of expr.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)) {
    for (const m of sel[2].matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      out.push({ metric: sel[1], label: m[1], op: m[2] as Matcher['op'], value: m[3].replace(/\\\\/g, '\\') });
    }
  }
  return out;
}

/**
 * What is wrong with one matcher, or undefined: the label must be one the metric (or the
 * target) has, and every value it names must be one the code can record — for a regex,
 * each alternative must match some recordable value, so a misspelt value is found even
 * inside `a|b`, and a negative matcher that excludes nothing is found too.
 */
export function matcherProblem(m: Matcher, metrics: Map<string, MetricLabels>): string | undefined {
  const where = `${m.metric}{${m.label}${m.op}"${m.value}"}`;
  if (m.value.includes('$')) return undefined; // a Grafana variable
  let values: string[] | undefined;
  if (m.label === 'job') values = JOBS;
  else if (TARGET_LABELS.has(m.label)) return undefined;
  else {
    const metric = metrics.get(m.metric);
    // Unknown names are the metric-name check's to report.
    if (!metric) return m.metric === 'up' ? `${where}: up has only target labels` : undefined;
    const known = m.label === 'le' && m.metric.endsWith('_bucket') ? true : metric.labels.has(m.label);
    if (!known) return `${where}: ${m.metric} has no label ${m.label} (it has ${[...metric.labels].join(', ') || 'none'})`;
    if (FREE.has(m.label) || m.label === 'le') return undefined;
    const computed = COMPUTED[`${m.metric.replace(/_(bucket|sum|count)$/, '')}.${m.label}`];
    if (metric.dynamic.has(m.label) && !computed) return `${where}: the code computes ${m.label}; say where its values come from (COMPUTED in deploy/test/support/labels.ts)`;
    values = [...(metric.values.get(m.label) ?? []), ...(computed?.() ?? [])];
  }
  const alternatives = m.op.endsWith('~') ? m.value.split('|') : [m.value];
  const bad = alternatives.filter((alt) => {
    const re = m.op.endsWith('~') ? new RegExp(`^(?:${alt})$`) : undefined;
    return !values.some((v) => (re ? re.test(v) : v === alt));
  });
  return bad.length > 0 ? `${where}: ${bad.join(', ')} is never recorded (the code records ${values.slice(0, 12).join(', ')}${values.length > 12 ? ', …' : ''})` : undefined;
}
