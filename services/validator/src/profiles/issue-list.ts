import type { ValidationIssue } from '@flotilla/contracts';

/** How many issues a job keeps; the rest are counted, not kept. */
export interface IssueCaps {
  /** Issues kept per code; past it, one summary issue says how many more there were. */
  perCode: number;
  /** Issues kept per job, summaries included. */
  perJob: number;
  /** Characters kept of a message (and of a file name or path); longer ones end in an ellipsis. */
  messageLength: number;
}

/** No caps: the profiles' own tests see every issue. */
export const UNCAPPED: IssueCaps = { perCode: Infinity, perJob: Infinity, messageLength: Infinity };

export const DEFAULT_ISSUE_CAPS: IssueCaps = { perCode: 100, perJob: 1000, messageLength: 1000 };

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`);

/**
 * The issues of one job as the profiles find them, held in bounded memory: the counts of
 * errors and warnings stay exact, but only the first `perCode` issues of each code (and
 * `perJob` in all) are kept, so a document of millions of faults costs a few thousand
 * objects. Each code that lost issues gets one summary issue counting them.
 */
export class IssueList {
  private readonly kept: ValidationIssue[] = [];
  private readonly keptByCode = new Map<string, number>();
  /** Issues not kept, per code, and whether any of them was an error. */
  private readonly dropped = new Map<string, { count: number; error: boolean }>();
  private errorCount = 0;
  private warningCount = 0;

  constructor(private readonly caps: IssueCaps = UNCAPPED) {}

  /** Same shape as `Array.prototype.push`, so profile code reads as before. */
  push(...issues: ValidationIssue[]): number {
    this.add(issues);
    return this.kept.length;
  }

  /** Adds any number of issues (an iterable, so a huge list is never spread into arguments). */
  add(issues: Iterable<ValidationIssue>): void {
    for (const issue of issues) this.addOne(issue);
  }

  /**
   * Counts an issue of `code` without it being built, when that code would not be kept
   * anyway; false (nothing counted) when it would be, and the caller pushes it.
   */
  countIfFull(code: string, severity: 'error' | 'warning'): boolean {
    if ((this.keptByCode.get(code) ?? 0) < this.caps.perCode && this.kept.length < this.caps.perJob) return false;
    if (severity === 'error') this.errorCount++;
    else this.warningCount++;
    const entry = this.dropped.get(code);
    if (entry) {
      entry.count++;
      entry.error ||= severity === 'error';
    } else this.dropped.set(code, { count: 1, error: severity === 'error' });
    return true;
  }

  /** Exact counts, whatever was kept. */
  get summary(): { errors: number; warnings: number } {
    return { errors: this.errorCount, warnings: this.warningCount };
  }

  get hasErrors(): boolean {
    return this.errorCount > 0;
  }

  /**
   * The kept issues in the order found, then one summary per code that lost issues; at most
   * `perJob` in all (the last kept issues make room for the summaries, and are counted in them).
   */
  toArray(): ValidationIssue[] {
    const dropped = new Map([...this.dropped].map(([code, d]) => [code, { ...d }]));
    const kept = [...this.kept];
    const summaries = (): number => dropped.size;
    while (kept.length > 0 && kept.length + summaries() > this.caps.perJob) {
      const last = kept.pop()!;
      const entry = dropped.get(last.code) ?? { count: 0, error: false };
      entry.count++;
      entry.error ||= last.severity === 'error';
      dropped.set(last.code, entry);
    }
    const lines = [...dropped].map(([code, d]): ValidationIssue => ({
      severity: d.error ? 'error' : 'warning',
      code,
      message: `${d.count} more ${code} issue(s) not listed: only the first ${Math.min(this.caps.perCode, this.caps.perJob)} of a code (and ${this.caps.perJob} in all) are kept`,
    }));
    return [...kept, ...lines].slice(0, Number.isFinite(this.caps.perJob) ? this.caps.perJob : undefined);
  }

  private addOne(issue: ValidationIssue): void {
    if (issue.severity === 'error') this.errorCount++;
    else this.warningCount++;
    const ofCode = this.keptByCode.get(issue.code) ?? 0;
    if (ofCode >= this.caps.perCode || this.kept.length >= this.caps.perJob) {
      const entry = this.dropped.get(issue.code) ?? { count: 0, error: false };
      entry.count++;
      entry.error ||= issue.severity === 'error';
      this.dropped.set(issue.code, entry);
      return;
    }
    this.keptByCode.set(issue.code, ofCode + 1);
    this.kept.push(this.trimmed(issue));
  }

  private trimmed(issue: ValidationIssue): ValidationIssue {
    const max = this.caps.messageLength;
    if (!Number.isFinite(max)) return issue;
    return {
      severity: issue.severity,
      code: issue.code,
      ...(issue.file !== undefined ? { file: truncate(issue.file, max) } : {}),
      ...(issue.path !== undefined ? { path: truncate(issue.path, max) } : {}),
      message: truncate(issue.message, max),
    };
  }
}
