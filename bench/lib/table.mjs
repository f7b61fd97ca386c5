// The one table of the report: scenario, figure, raw figure, ratio, bar, result.

/** Formats a number with thousands separators and `digits` decimals. */
export function num(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ms = (value) => (Number.isNaN(value) ? '—' : value < 10 ? `${num(value, 2)} ms` : `${num(value, value < 100 ? 1 : 0)} ms`);
export const pct = (ratio) => (Number.isNaN(ratio) ? '—' : `${num(ratio * 100, 1)}%`);
export const times = (ratio) => (Number.isNaN(ratio) ? '—' : `${num(ratio, 2)}×`);

/**
 * A row. `pass` is true/false against the bar, or undefined for a figure that is only
 * reported; `error` marks a scenario that could not run. An `integrity` row (work lost,
 * counted twice, or refused) is a correctness check, not a speed bar: the harness exits
 * non-zero when one fails.
 */
export function row(scenario, { figure, raw = '—', ratio = '—', bar = '—', pass, error, integrity = false, values = {} }) {
  return { scenario, figure, raw, ratio, bar, result: error ? 'ERROR' : pass === undefined ? 'reported' : pass ? 'pass' : 'FAIL', error, integrity, values };
}

/** The integrity rows that failed. */
export const failedIntegrity = (rows) => rows.filter((r) => r.integrity && r.result === 'FAIL');

/** The harness's exit code: 1 when a step could not run or an integrity row failed. */
export const exitCode = ({ failures, rows }) => (failures > 0 || failedIntegrity(rows).length > 0 ? 1 : 0);

const COLUMNS = [
  ['scenario', 'scenario'],
  ['figure', 'figure'],
  ['raw', 'raw figure'],
  ['ratio', 'ratio'],
  ['bar', 'bar'],
  ['result', 'result'],
];

/** The rows as a Markdown table, aligned for a terminal too. */
export function renderTable(rows) {
  const cells = rows.map((r) => COLUMNS.map(([key]) => String(r[key] ?? '')));
  const widths = COLUMNS.map(([, title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(COLUMNS.map(([, title]) => title)), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
