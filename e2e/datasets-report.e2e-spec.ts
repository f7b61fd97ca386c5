import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN, Platform } from './support/platform.js';
import { uploadAndValidate } from './support/datasets.js';

const problemType = 'application/problem+json';

interface ReportBody {
  datasetId: string;
  jobId: string;
  status: string;
  summary: { errors: number; warnings: number };
  items: { severity: string; code: string; file?: string; path?: string; message: string }[];
  nextCursor: string | null;
}

/** API.md "Bounded work": the status holds the first page of a capped report; GET /datasets/{id}/report pages all of it. */
describe('the validation report: capped, summarised and paged', () => {
  const platform = new Platform({}, ['gateway', 'upload', 'validator']);
  let alpha: string;
  let beta: string;

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['alpha', 'a@report.test'], ['beta', 'b@report.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      const user = await platform.api.request('POST', '/api/v1/admin/users', {
        token: admin,
        body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' },
      });
      expect(user.status).toBe(201);
    }
    alpha = await platform.api.login('a@report.test', 'member-password-123');
    beta = await platform.api.login('b@report.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  it('lists at most 1,000 issues, 100 per code with one summary each, exact counts, the status holding the first page', async () => {
    // 3,000 empty teams: each lacks every field, tens of thousands of issues in all.
    const content = Buffer.from(JSON.stringify({ national: Array.from({ length: 3000 }, () => ({})), club: [], custom: [] }));
    const { datasetId, verdict } = await uploadAndValidate(platform.api, alpha, 'empty-teams', 'teams-json', [
      { filename: 'teams.json', contentType: 'application/json', content },
    ]);
    expect(verdict.status).toBe('failed');
    expect(verdict.summary.errors).toBeGreaterThan(10_000);
    expect(verdict.issues.length).toBeLessThanOrEqual(100);

    const items: ReportBody['items'] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await platform.api.request<ReportBody>('GET', `/api/v1/datasets/${datasetId}/report?${query}`, { token: alpha });
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ datasetId, jobId: verdict.jobId, status: 'failed', summary: verdict.summary });
      expect(page.body.items.length).toBeLessThanOrEqual(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(cursor).toBeNull();
    expect(items.length).toBeGreaterThan(100);
    expect(items.length).toBeLessThanOrEqual(1000);
    expect(items.slice(0, verdict.issues.length)).toEqual(verdict.issues);
    const byCode = new Map<string, typeof items>();
    for (const issue of items) byCode.set(issue.code, [...(byCode.get(issue.code) ?? []), issue]);
    let listed = 0;
    let summed = 0;
    for (const [, issues] of byCode) {
      const summaries = issues.filter((i) => /^\d+ more /.test(i.message));
      expect(summaries.length).toBeLessThanOrEqual(1);
      expect(issues.length - summaries.length).toBeLessThanOrEqual(100);
      listed += issues.length - summaries.length;
      summed += summaries.reduce((n, i) => n + Number(/^(\d+)/.exec(i.message)![1]), 0);
    }
    // Listed and summed, every issue is accounted for.
    expect(listed + summed).toBe(verdict.summary.errors + verdict.summary.warnings);
    for (const issue of items) expect(issue.message.length).toBeLessThanOrEqual(1000);
  });

  it("answers 404 for another team's report, and refuses bad paging with problem+json", async () => {
    const content = Buffer.from(JSON.stringify({ national: [{}], club: [], custom: [] }));
    const { datasetId } = await uploadAndValidate(platform.api, alpha, 'one-team', 'teams-json', [{ filename: 'teams.json', contentType: 'application/json', content }]);
    const other = await platform.api.request('GET', `/api/v1/datasets/${datasetId}/report`, { token: beta });
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain(problemType);
    const unknown = await platform.api.request('GET', `/api/v1/datasets/00000000-0000-4000-8000-000000000000/report`, { token: alpha });
    expect(unknown.status).toBe(404);
    for (const query of ['limit=0', 'limit=201', 'limit=x', 'cursor=not*a*cursor', `cursor=${Buffer.from('someone-else|3').toString('base64url')}`]) {
      const res = await platform.api.request('GET', `/api/v1/datasets/${datasetId}/report?${query}`, { token: alpha });
      expect([query, res.status >= 400 && res.status < 500]).toEqual([query, true]);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    const first = await platform.api.request<ReportBody>('GET', `/api/v1/datasets/${datasetId}/report?limit=1`, { token: alpha });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).not.toBeNull();
  });
});
