import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleDatasets, png, writeSampleDatasets } from '@flotilla/samples';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { decodeStatusSnapshot, STATUS_SNAPSHOT_DELETED, statusSnapshotKey } from '@flotilla/contracts';
import { TEST_REDIS_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';
import { expectBody, statusOf } from './support/typed-api.js';
import { distinctCodes, putFiles, sha256, startUpload, uploadAndValidate, waitForVerdict, type LocalFile, type ValidationStatusBody } from './support/datasets.js';

const problemType = 'application/problem+json';

describe('datasets end to end: login → start → PUT to S3 → complete → validation', () => {
  const platform = new Platform({}, ['gateway', 'upload', 'validator']);
  let alpha: string;
  let beta: string;

  beforeAll(async () => {
    await platform.start();
    const admin = platform.api.as(await platform.api.login(ADMIN.email, ADMIN.password));
    for (const [team, email] of [['alpha', 'a@datasets.test'], ['beta', 'b@datasets.test']] as const) {
      const created = await expectBody<{ id: string }>(admin.POST('/api/v1/admin/teams', { body: { name: team } }), 201);
      await expectBody(admin.POST('/api/v1/admin/users', { body: { email, password: 'member-password-123', teamId: created.id, role: 'member' } }), 201);
    }
    alpha = await platform.api.login('a@datasets.test', 'member-password-123');
    beta = await platform.api.login('b@datasets.test', 'member-password-123');
  });

  afterAll(() => platform.stop());

  describe.each(sampleDatasets().map((d) => [d.name, d] as const))('sample %s', (name, sample) => {
    it(`ends ${sample.expectedStatus} with exactly the expected issue codes`, async () => {
      const { verdict } = await uploadAndValidate(platform.api, alpha, name, sample.profile, sample.files, sample.options);
      expect({ status: verdict.status, codes: distinctCodes(verdict) }).toEqual({ status: sample.expectedStatus, codes: [...sample.expectedCodes].sort() });
      expect(verdict.progress).toMatchObject({ filesTotal: sample.files.length, filesChecked: sample.files.length, percent: 100 });
      expect(verdict.summary.errors).toBe(verdict.issues.filter((i) => i.severity === 'error').length);
      // The full report is in S3, behind a presigned link.
      const report = await fetch(verdict.reportUrl!);
      expect(report.status).toBe(200);
      expect(((await report.json()) as { issues: unknown[] }).issues).toHaveLength(verdict.issues.length);
    });
  });

  it('completing twice answers 200 with the same job, and the status carries ETag, 304 and Retry-After', async () => {
    const files = [img('a.png')];
    const start = await startUpload(platform.api, alpha, 'twice', 'xray', files);
    await putFiles(start, files);
    const api = platform.api.as(alpha);
    const complete = () => api.POST('/api/v1/upload/complete', { body: { datasetId: start.datasetId } });
    const first = await expectBody<{ validationJobId: string; status: string }>(complete(), 202);
    expect(first.status).toBe('queued');
    const poll = (headers: Record<string, string> = {}) => api.GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId: start.datasetId } }, headers });
    const status = await poll();
    expect(status.response.status).toBe(200);
    const body = await expectBody<ValidationStatusBody>(Promise.resolve(status), 200);
    expect(body.jobId).toBe(first.validationJobId);
    if (body.status === 'queued' || body.status === 'running') expect(Number(status.response.headers.get('retry-after'))).toBeGreaterThan(0);
    const second = await expectBody<{ validationJobId: string }>(complete(), 200);
    expect(second.validationJobId).toBe(first.validationJobId);
    const verdict = await waitForVerdict(platform.api, alpha, start.datasetId);
    expect(verdict.status).toBe('failed'); // no manifest
    const final = (await poll()).response;
    const etag = final.headers.get('etag')!;
    expect(final.headers.get('retry-after')).toBeNull();
    expect(await statusOf(poll({ 'if-none-match': etag }))).toBe(304);
  });

  it('refuses to complete when an object is missing or of the wrong size, listing them, and queues nothing', async () => {
    const files = [img('present.png'), img('missing.png'), img('short.png')];
    const start = await startUpload(platform.api, alpha, 'incomplete', 'xray', files);
    await putFiles({ ...start, files: start.files.filter((f) => f.filename === 'present.png') }, files);
    // s3rver does not enforce the signed length; real S3 would refuse this PUT outright.
    const short = start.files.find((f) => f.filename === 'short.png')!;
    await fetch(short.uploadUrl!, { method: 'PUT', headers: short.headers, body: files[2]!.content.subarray(0, 10) });
    const api = platform.api.as(alpha);
    const { error, response } = await api.POST('/api/v1/upload/complete', { body: { datasetId: start.datasetId } });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain(problemType);
    const errors = error?.errors ?? [];
    expect(errors.map((e) => e.path).sort()).toEqual(['missing.png', 'short.png']);
    expect(Object.fromEntries(errors.map((e) => [e.path, e.message]))).toEqual({
      'missing.png': 'was not uploaded',
      'short.png': `has 10 bytes, but ${files[2]!.content.length} were declared`,
    });
    const detail = await expectBody<{ status: string; latestJob: unknown }>(api.GET('/api/v1/datasets/{id}', { params: { path: { id: start.datasetId } } }), 200);
    expect(detail).toMatchObject({ status: 'pending', latestJob: null });
    expect(await statusOf(api.GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId: start.datasetId } } }))).toBe(404);
  });

  it.each([
    ['a path separator', 'dir/x.png'],
    ['a backslash', 'dir\\x.png'],
    ['parent references', '../x.png'],
    ['a control character', 'x\u0007.png'],
    ['a newline', 'x\n.png'],
    ['more than 255 bytes', `${'é'.repeat(128)}.png`],
  ])('refuses a filename with %s with 422 before anything is signed', async (_, filename) => {
    const api = platform.api.as(alpha);
    const list = () => expectBody<{ items: unknown[] }>(api.GET('/api/v1/datasets', { params: { query: { limit: 200 } } }), 200);
    const before = await list();
    const { error, response } = await api.POST('/api/v1/upload/start', {
      body: { datasetName: 'hostile', profile: 'xray', files: [{ filename, contentType: 'image/png', sizeBytes: 10 }] },
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain(problemType);
    expect(error?.errors?.[0]?.path).toBe('files[0].filename');
    expect(JSON.stringify(error)).not.toContain('X-Amz-Signature');
    expect((await list()).items).toHaveLength(before.items.length);
  });

  it('refuses other bad file lists with 422 and malformed bodies with 400', async () => {
    const start = (files: unknown, profile = 'xray') =>
      platform.api.request('POST', '/api/v1/upload/start', { token: alpha, body: { datasetName: 'bad', profile, files } });
    expect((await start([])).status).toBe(422);
    expect((await start([{ filename: 'a.png', contentType: 'image/png', sizeBytes: 1 }, { filename: 'a.png', contentType: 'image/png', sizeBytes: 1 }])).status).toBe(422);
    expect((await start([{ filename: 'a.png', contentType: 'image/png', sizeBytes: 6 * 1024 ** 4 }])).status).toBe(422);
    expect((await start([{ filename: 'a.exe', contentType: 'application/x-msdownload', sizeBytes: 1 }])).status).toBe(422);
    expect((await start([{ filename: 'teams.png', contentType: 'image/png', sizeBytes: 1 }], 'teams-json')).status).toBe(422);
    expect((await start([{ filename: 'a.png', contentType: 'image/png', sizeBytes: -1 }])).status).toBe(400);
    expect((await start([{ filename: 'a.png', contentType: 'image/png', sizeBytes: '1' }])).status).toBe(400);
    expect((await start([{ filename: 'a.png', contentType: 'image/png', sizeBytes: 1, extra: true }])).status).toBe(400);
    expect((await start([], 'pdf')).status).toBe(400);
  });

  it("answers 404 to another team's dataset on every dataset route", async () => {
    const files = [img('mine.png')];
    const { datasetId } = await uploadAndValidate(platform.api, alpha, 'private', 'xray', files);
    const detail = await platform.api.request<{ files: { id: string }[] }>('GET', `/api/v1/datasets/${datasetId}`, { token: alpha });
    const fileId = detail.body.files[0]!.id;
    const routes: [string, string, unknown?][] = [
      ['GET', `/api/v1/datasets/${datasetId}`],
      ['GET', `/api/v1/datasets/${datasetId}/files/${fileId}/download`],
      ['GET', `/api/v1/validation/${datasetId}/status`],
      ['GET', `/api/v1/validation/${datasetId}/events`],
      ['POST', '/api/v1/upload/complete', { datasetId }],
      ['DELETE', `/api/v1/datasets/${datasetId}`],
    ];
    for (const [method, path, body] of routes) {
      const res = await platform.api.request(method, path, { token: beta, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    const list = await platform.api.request<{ items: { id: string }[] }>('GET', '/api/v1/datasets?limit=200', { token: beta });
    expect(list.body.items.map((d) => d.id)).not.toContain(datasetId);
    // Still there for its owner.
    expect((await platform.api.request('GET', `/api/v1/datasets/${datasetId}`, { token: alpha })).status).toBe(200);
  });

  it('lists, downloads and recognises the same bytes in two datasets', async () => {
    const shared = img('shared.png');
    const first = await uploadAndValidate(platform.api, alpha, 'first', 'xray', [shared]);
    const second = await uploadAndValidate(platform.api, alpha, 'second', 'xray', [{ ...shared, filename: 'copy.png' }]);
    // The dataset follows its job (validation.completed), and its files get their content address.
    const api = platform.api.as(alpha);
    type Detail = { status: string; latestJob: { status: string } | null; files: { id: string; sha256: string | null; md5: string | null; sameContentAs: { datasetId: string }[] }[] };
    const detail = await waitFor(
      async () => {
        const body = await expectBody<Detail>(api.GET('/api/v1/datasets/{id}', { params: { path: { id: second.datasetId } } }), 200);
        return body.status === second.verdict.status && body.files[0]!.sha256 ? body : undefined;
      },
      { what: 'the dataset to show its verdict' },
    );
    expect(detail.latestJob?.status).toBe(second.verdict.status);
    expect(detail.files[0]!.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(detail.files[0]!.sha256).toBe(sha256(shared.content));
    expect(detail.files[0]!.sameContentAs.map((s) => s.datasetId)).toContain(first.datasetId);
    const link = await expectBody<{ url: string; expiresAt: string }>(
      api.GET('/api/v1/datasets/{id}/files/{fileId}/download', { params: { path: { id: second.datasetId, fileId: detail.files[0]!.id } } }),
      200,
    );
    const bytes = Buffer.from(await (await fetch(link.url)).arrayBuffer());
    expect(bytes.equals(shared.content)).toBe(true);
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await expectBody<{ items: { id: string }[]; nextCursor: string | null }>(api.GET('/api/v1/datasets', { params: { query: { limit: 2, cursor } } }), 200);
      pages.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toEqual(expect.arrayContaining([first.datasetId, second.datasetId]));
    expect(new Set(pages).size).toBe(pages.length);
  });

  it('streams status events until the job finishes', async () => {
    const files = [img('sse.png')];
    const start = await startUpload(platform.api, alpha, 'sse', 'xray', files);
    await putFiles(start, files);
    await expectBody(platform.api.as(alpha).POST('/api/v1/upload/complete', { body: { datasetId: start.datasetId } }), 202);
    const res = await fetch(`${platform.api.baseUrl}/api/v1/validation/${start.datasetId}/events`, { headers: { authorization: `Bearer ${alpha}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the server closes the stream when the job is finished
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: status'))
      .map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as ValidationStatusBody);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[events.length - 1]!.status).toBe('failed');
  });

  it.each([
    ['xray-valid', 'xray', 0, 'passed'],
    ['xray-broken', 'xray', 1, 'failed'],
  ] as const)('uploads the %s folder with the flotilla command, which waits for the verdict', async (name, profile, exitCode, status) => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
    try {
      await writeSampleDatasets(dir);
      // Not spawnSync: the embedded S3 runs in this process and must keep answering.
      const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['tools/cli/dist/main.js', 'upload', join(dir, name), '--profile', profile, '--api', platform.api.baseUrl, '--json'],
          { env: { PATH: process.env.PATH ?? '', FLOTILLA_EMAIL: 'a@datasets.test', FLOTILLA_PASSWORD: 'member-password-123' }, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
      expect({ exit: run.status, stderr: run.status === exitCode ? '' : run.stderr }).toEqual({ exit: exitCode, stderr: '' });
      const verdict = JSON.parse(run.stdout) as ValidationStatusBody;
      const sample = sampleDatasets().find((d) => d.name === name)!;
      expect({ status: verdict.status, codes: distinctCodes(verdict) }).toEqual({ status, codes: [...sample.expectedCodes].sort() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records the dataset metrics', async () => {
    const metric = (text: string, name: string): number =>
      text
        .split('\n')
        .filter((line) => line.startsWith(name) && !line.startsWith('#'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    const upload = await (await fetch(`${platform.service('upload').url}/metrics`)).text();
    const validator = await (await fetch(`${platform.service('validator').url}/metrics`)).text();
    expect(metric(upload, 's3_upload_count')).toBeGreaterThan(0);
    expect(metric(upload, 's3_upload_bytes')).toBeGreaterThan(0);
    expect(upload).toMatch(/^concurrent_uploads \d+/m);
    expect(metric(validator, 'validation_duration_seconds_count{status="passed"}')).toBeGreaterThan(0);
    expect(metric(validator, 'validation_duration_seconds_count{status="failed"}')).toBeGreaterThan(0);
    expect(validator).toMatch(/^validation_queue_length \d+/m);
  });

  it("answers a finished job's status from the validator's snapshot: the same answer, its team only, gone with the dataset", async () => {
    const files = [img('snap.png')];
    const { datasetId } = await uploadAndValidate(platform.api, alpha, 'snapshot', 'xray', files);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const key = new Naming(platform.namespace).key(statusSnapshotKey(datasetId));
      const viaServices = await platform.api.request<ValidationStatusBody>('GET', `/api/v1/validation/${datasetId}/status`, { token: alpha });
      const stored = await waitFor(async () => (await redis.get(key)) ?? undefined, { what: 'the status snapshot', timeoutMs: 5_000 });
      const snapshot = decodeStatusSnapshot(stored)!;
      const fromSnapshot = await platform.api.request<ValidationStatusBody>('GET', `/api/v1/validation/${datasetId}/status`, { token: alpha });
      expect(fromSnapshot.status).toBe(200);
      expect(JSON.stringify(fromSnapshot.body)).toBe(snapshot.statusJson);
      // The report link is presigned once and reused, so both answers are the same.
      expect(fromSnapshot.body).toEqual(viaServices.body);
      for (const header of ['etag', 'cache-control', 'content-type', 'retry-after']) expect([header, fromSnapshot.headers.get(header)]).toEqual([header, viaServices.headers.get(header)]);
      expect(fromSnapshot.headers.get('etag')).toBe(`"${snapshot.version}"`);
      expect((await platform.api.request('GET', `/api/v1/validation/${datasetId}/status`, { token: alpha, headers: { 'if-none-match': `W/"${snapshot.version}"` } })).status).toBe(304);
      expect((await fetch(fromSnapshot.body.reportUrl!)).status).toBe(200);
      // Another team's member is refused as before, snapshot or not.
      const other = await platform.api.request('GET', `/api/v1/validation/${datasetId}/status`, { token: beta });
      expect([other.status, other.headers.get('content-type')]).toEqual([404, expect.stringContaining(problemType)]);
      expect((await platform.api.request('DELETE', `/api/v1/datasets/${datasetId}`, { token: alpha })).status).toBe(204);
      expect(await redis.get(key)).toBe(STATUS_SNAPSHOT_DELETED);
      expect((await platform.api.request('GET', `/api/v1/validation/${datasetId}/status`, { token: alpha })).status).toBe(404);
    } finally {
      redis.disconnect();
    }
  });

  it('deletes a dataset: 204, then 404, and its objects are gone', async () => {
    const files = [img('gone.png')];
    const { datasetId } = await uploadAndValidate(platform.api, alpha, 'doomed', 'xray', files);
    const api = platform.api.as(alpha);
    const path = { id: datasetId };
    const detail = await expectBody<{ files: { id: string }[] }>(api.GET('/api/v1/datasets/{id}', { params: { path } }), 200);
    const link = await expectBody<{ url: string }>(api.GET('/api/v1/datasets/{id}/files/{fileId}/download', { params: { path: { ...path, fileId: detail.files[0]!.id } } }), 200);
    const statusOfJob = () => api.GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId } } });
    const status = await expectBody<ValidationStatusBody>(statusOfJob(), 200);
    expect(await statusOf(api.DELETE('/api/v1/datasets/{id}', { params: { path } }))).toBe(204);
    expect(await statusOf(api.GET('/api/v1/datasets/{id}', { params: { path } }))).toBe(404);
    expect(await statusOf(statusOfJob())).toBe(404);
    expect((await fetch(link.url)).status).toBe(404);
    expect((await fetch(status.reportUrl!)).status).toBe(404);
  });
});

function img(filename: string): LocalFile {
  return { filename, contentType: 'image/png', content: png({ width: 64 + filename.length, height: 64 }) };
}
