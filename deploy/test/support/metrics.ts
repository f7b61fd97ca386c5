import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (path.endsWith('.ts') && !path.endsWith('.spec.ts')) out.push(path);
  }
  return out;
}

/** The TypeScript sources of libs/*\/src and services/*\/src (tests left out). */
export function sourceFiles(): string[] {
  return ['libs', 'services'].flatMap((top) =>
    readdirSync(join(ROOT, top)).flatMap((p) => {
      const src = join(ROOT, top, p, 'src');
      try {
        return statSync(src).isDirectory() ? tsFiles(src) : [];
      } catch {
        return [];
      }
    }),
  );
}

/**
 * The metric series the services expose: every counter, gauge and histogram created
 * through MetricsService in libs/*\/src and services/*\/src (histograms with their
 * _bucket, _sum and _count series), Prometheus's `up`, and prom-client's default
 * process and Node.js metrics.
 */
export function recordedMetrics(): { names: Set<string>; prefixes: string[] } {
  const names = new Set<string>(['up']);
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.(counter|gauge|histogram)(?:<[^>]*>)?\(\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) {
      const [, type, name] = m;
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
  }
  return { names, prefixes: ['process_', 'nodejs_'] };
}

const FUNCTIONS_AND_KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'absent', 'absent_over_time',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'last_over_time',
  'label_replace', 'label_join', 'clamp_min', 'clamp_max', 'abs', 'ceil', 'floor', 'round', 'vector', 'scalar', 'time',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'label_values',
]);

/** The metric names a PromQL expression reads (label matchers, groupings, strings and ranges removed). */
export function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    const name = m[1];
    if (FUNCTIONS_AND_KEYWORDS.has(name) || /^(e|inf|nan)$/i.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** Whether `(`…`)`, `{`…`}` and `[`…`]` nest correctly outside strings. */
export function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('({['.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0;
}
