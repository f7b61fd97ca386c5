import { describe, expect, it } from '@jest/globals';
import type { ValidationIssue } from '@flotilla/contracts';
import { DEFAULT_PROFILE_OPTIONS } from './profile.js';
import { IssueList } from './issue-list.js';
import { teamsJsonProfile } from './teams-json.profile.js';

const issue = (code: string, severity: 'error' | 'warning' = 'error', message = `a ${code}`): ValidationIssue => ({ severity, code, message });

function* many(n: number, code: string, severity: 'error' | 'warning' = 'error'): Generator<ValidationIssue> {
  for (let i = 0; i < n; i++) yield issue(code, severity);
}

describe('IssueList', () => {
  it('keeps the first issues of each code, sums the rest in one issue per code, and counts every issue', () => {
    const list = new IssueList({ perCode: 3, perJob: 100, messageLength: 1000 });
    list.add(many(10, 'a'));
    list.add(many(2, 'b', 'warning'));
    list.add(many(5, 'c', 'warning'));
    const out = list.toArray();
    expect(list.summary).toEqual({ errors: 10, warnings: 7 });
    expect(out.filter((i) => i.code === 'a')).toHaveLength(4);
    expect(out.filter((i) => i.code === 'b')).toHaveLength(2);
    const summaryOfA = out.filter((i) => i.code === 'a').at(-1)!;
    expect(summaryOfA.message).toMatch(/^7 more a issue/);
    expect(summaryOfA.severity).toBe('error');
    expect(out.filter((i) => i.code === 'c').at(-1)!.message).toMatch(/^2 more c issue/);
  });

  it('keeps at most the per-job cap, summaries included, and the summaries count what was left out', () => {
    const list = new IssueList({ perCode: 10, perJob: 25, messageLength: 1000 });
    for (const code of ['a', 'b', 'c', 'd', 'e']) list.add(many(20, code));
    const out = list.toArray();
    expect(out).toHaveLength(25);
    const listed = out.filter((i) => !/ more /.test(i.message)).length;
    const summed = out.map((i) => /^(\d+) more /.exec(i.message)).reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
    expect(listed + summed).toBe(100);
    expect(list.summary.errors).toBe(100);
  });

  it('cuts long messages, file names and paths', () => {
    const list = new IssueList({ perCode: 10, perJob: 10, messageLength: 50 });
    list.push({ severity: 'error', code: 'x', file: 'f'.repeat(500), path: '/p'.repeat(500), message: 'm'.repeat(10_000) });
    const [only] = list.toArray();
    expect(only!.message.length).toBeLessThanOrEqual(50);
    expect(only!.file!.length).toBeLessThanOrEqual(50);
    expect(only!.path!.length).toBeLessThanOrEqual(50);
  });

  it('holds a teams document of 200,000 empty teams to the caps with exact counts', () => {
    const body = Buffer.from(JSON.stringify({ national: Array.from({ length: 200_000 }, () => ({})), club: [], custom: [] }));
    const file = { fileId: '00000000-0000-4000-8000-000000000000', filename: 'teams.json', contentType: 'application/json', declaredSize: body.length, size: body.length, sha256: 'x', md5: 'y', head: Buffer.alloc(0), body };
    const uncapped = teamsJsonProfile.validate([file], DEFAULT_PROFILE_OPTIONS);
    const list = new IssueList({ perCode: 100, perJob: 1000, messageLength: 1000 });
    const capped = teamsJsonProfile.validate([file], DEFAULT_PROFILE_OPTIONS, list);
    expect(uncapped.length).toBeGreaterThan(200_000);
    expect(capped.length).toBeLessThanOrEqual(1000);
    expect(list.summary.errors + list.summary.warnings).toBe(uncapped.length);
  });
});
