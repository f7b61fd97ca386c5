import type { ValidationIssue, ValidationStatus } from '@flotilla/contracts';

const MAX_CELL = 48;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function cell(value: string | undefined, width = MAX_CELL): string {
  const text = (value ?? '').replace(/\s+/g, ' ').trim() || '-';
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/**
 * The issues as a plain-text table: severity, code, file, path, message (the message
 * column is not cut). Errors come before warnings; otherwise the server's order is kept.
 */
export function renderIssues(issues: readonly ValidationIssue[]): string {
  if (issues.length === 0) return '';
  const header = ['SEVERITY', 'CODE', 'FILE', 'PATH', 'MESSAGE'];
  const ordered = [...issues.filter((i) => i.severity === 'error'), ...issues.filter((i) => i.severity !== 'error')];
  const rows = ordered.map((i) => [cell(i.severity), cell(i.code), cell(i.file), cell(i.path), (i.message ?? '').replace(/\s+/g, ' ').trim()]);
  const widths = header.slice(0, -1).map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((v, c) => (c < widths.length ? v.padEnd(widths[c]!) : v)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The verdict: one headline, the reason of an `error`, the issues table, the report link. */
export function renderVerdict(status: ValidationStatus, datasetName?: string): string {
  const what = datasetName ? `Dataset "${datasetName}" (${status.datasetId})` : `Dataset ${status.datasetId}`;
  const counts = `${plural(status.summary.errors, 'error')}, ${plural(status.summary.warnings, 'warning')}`;
  const headline: Record<ValidationStatus['status'], string> = {
    passed: `PASSED: ${what} — ${counts}`,
    failed: `FAILED: ${what} — ${counts}`,
    error: `ERROR: ${what} could not be validated`,
    queued: `QUEUED: ${what} is waiting for validation (job ${status.jobId})`,
    running: `RUNNING: ${what} is being validated (job ${status.jobId}, ${Math.round(status.progress.percent)}%)`,
  };
  const lines = [headline[status.status]];
  if (status.status === 'error' && status.error) lines.push(`Reason: ${status.error}`);
  const table = renderIssues(status.issues ?? []);
  if (table) lines.push('', table);
  if (status.reportUrl) lines.push('', `Report: ${status.reportUrl}`);
  return `${lines.join('\n')}\n`;
}
