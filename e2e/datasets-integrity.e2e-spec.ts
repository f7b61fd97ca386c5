import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadEnv } from '@flotilla/config';
import { png, sampleDatasets } from '@flotilla/samples';
import { ObjectStorage, StorageEnv } from '@flotilla/storage';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';
import { putFiles, sha256, waitForVerdict, type LocalFile, type StartBody, type ValidationStatusBody } from './support/datasets.js';

/**
 * Once a dataset is completed, its bytes are fixed (API.md, Datasets: integrity): the
 * upload URLs stay valid for the session's whole TTL, and a PUT to one afterwards must
 * change nothing that is served or reported, and, after a DELETE, leave nothing in the
 * bucket. The bucket's own listing is the judge, not the service's rows.
 */
describe('datasets: a verdict that stays true', () => {
  // A sweep every second, and no grace after expiry, so the tests need not wait minutes.
  const platform = new Platform({}, ['gateway', 'upload', 'validator'], {
    envOf: (name): Record<string, string> => (name === 'upload' ? { UPLOAD_SWEEP_INTERVAL_SECONDS: '1' } : {}),
  });
  let token: string;
  let storage: ObjectStorage;

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'integrity' } });
    const user = await platform.api.request('POST', '/api/v1/admin/users', {
      token: admin,
      body: { email: 'i@integrity.test', password: 'member-password-123', teamId: team.body.id, role: 'member' },
    });
    expect(user.status).toBe(201);
    token = await platform.api.login('i@integrity.test', 'member-password-123');
    storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: platform.s3!.endpoint, S3_BUCKET: `flotilla-${platform.namespace}` }));
  });

  afterAll(() => platform.stop());

  /** Start with the files' SHA-256 declared (`declare`) or not, and PUT them. */
  async function upload(name: string, files: LocalFile[], declare: boolean, sample = { profile: 'xray', options: undefined as Record<string, unknown> | undefined }): Promise<StartBody> {
    const res = await platform.api.request<StartBody>('POST', '/api/v1/upload/start', {
      token,
      body: {
        datasetName: name,
        profile: sample.profile,
        ...(sample.options ? { options: sample.options } : {}),
        files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length, ...(declare ? { sha256: sha256(f.content) } : {}) })),
      },
    });
    expect(res.status).toBe(201);
    await putFiles(res.body, files);
    return res.body;
  }

  const complete = (datasetId: string) => platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId } });

  async function download(datasetId: string, fileId: string): Promise<Buffer> {
    const link = await platform.api.request<{ url: string }>('GET', `/api/v1/datasets/${datasetId}/files/${fileId}/download`, { token });
    expect(link.status).toBe(200);
    const res = await fetch(link.body.url);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  const keys = async (datasetId: string): Promise<string[]> => (await storage.list(`datasets/${datasetId}/`)).map((o) => o.key).sort();

  it.each([
    ['declared', true],
    ['not declared', false],
  ])('a PUT of other bytes to the old URL after `passed` changes nothing served or reported (sha256 %s)', async (_label, declare) => {
    const valid = sampleDatasets().find((d) => d.name === 'xray-valid')!;
    const original = valid.files.find((f) => f.contentType !== 'application/json') ?? valid.files[0]!;
    const start = await upload(`replaced-${String(declare)}`, valid.files, declare, { profile: valid.profile, options: valid.options });
    expect((await complete(start.datasetId)).status).toBe(202);
    const verdict = await waitForVerdict(platform.api, token, start.datasetId);
    expect(verdict.status).toBe('passed');
    const target = start.files.find((f) => f.filename === original.filename)!;
    const fileId = target.fileId;
    expect((await download(start.datasetId, fileId)).equals(original.content)).toBe(true);
    // The dataset has its verdict and content addresses (validation.completed) before the attack.
    const before = await waitFor(async () => {
      const res = await platform.api.request<{ status: string; files: { sha256: string | null }[] }>('GET', `/api/v1/datasets/${start.datasetId}`, { token });
      return res.body.status === 'passed' && res.body.files.every((f) => f.sha256) ? res : undefined;
    }, { what: 'the dataset to show its verdict' });
    const reportBefore = await (await fetch(verdict.reportUrl!)).text();

    // The attack: other bytes of the same length, to the URL the upload was given.
    const forged = Buffer.from(original.content);
    forged.fill(0x41, Math.floor(forged.length / 2));
    expect(forged.length).toBe(original.content.length);
    expect(forged.equals(original.content)).toBe(false);
    // The embedded S3 checks neither signatures nor checksums, so it takes the PUT (S3 and
    // MinIO refuse it when the SHA-256 was declared); what matters is what follows.
    await fetch(target.uploadUrl!, { method: 'PUT', headers: target.headers, body: forged });

    expect((await download(start.datasetId, fileId)).equals(original.content)).toBe(true);
    const after = await platform.api.request<{ status: string; files: { sha256: string }[] }>('GET', `/api/v1/datasets/${start.datasetId}`, { token });
    expect(after.body).toEqual(before.body);
    expect(after.body.status).toBe('passed');
    const status = await platform.api.request<ValidationStatusBody>('GET', `/api/v1/validation/${start.datasetId}/status`, { token });
    expect({ ...status.body, reportUrl: undefined }).toEqual({ ...verdict, reportUrl: undefined });
    expect(await (await fetch(status.body.reportUrl!)).text()).toBe(reportBefore);
    // And the stray object the PUT wrote is swept; the validated one stays.
    // Files sent in one PUT are kept under a key no upload URL names.
    const validated = start.files.map((f) => `datasets/${start.datasetId}/${f.fileId}/final/${f.filename}`).sort();
    await waitFor(async () => ((await keys(start.datasetId)).length === validated.length ? true : undefined), { timeoutMs: 20_000, what: 'the stray upload object to be swept' });
    expect(await keys(start.datasetId)).toEqual(validated);
    expect((await download(start.datasetId, fileId)).equals(original.content)).toBe(true);
  });

  it('a download is refused (409) once the kept object is not the one whose ETag was recorded', async () => {
    const file = img('kept.png');
    const start = await upload('tampered', [file], false);
    expect((await complete(start.datasetId)).status).toBe(202);
    const fileId = start.files[0]!.fileId;
    expect((await download(start.datasetId, fileId)).equals(file.content)).toBe(true);
    // Written with the store's own credentials, which no client has: the only way left to change the kept object.
    const forged = Buffer.from(file.content);
    forged.fill(0x42, Math.floor(forged.length / 2));
    await storage.putObject(`datasets/${start.datasetId}/${fileId}/final/kept.png`, forged, 'image/png');
    const res = await platform.api.request<{ status: number; detail: string }>('GET', `/api/v1/datasets/${start.datasetId}/files/${fileId}/download`, { token });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it.each([
    ['after completion', true],
    ['before completion', false],
  ])('a PUT to an old upload URL after DELETE (%s) leaves nothing in the bucket', async (_label, completeFirst) => {
    const file = img('late.png');
    const start = await upload(`deleted-${String(completeFirst)}`, [file], true);
    if (completeFirst) {
      expect((await complete(start.datasetId)).status).toBe(202);
      await waitForVerdict(platform.api, token, start.datasetId);
    }
    expect((await platform.api.request('DELETE', `/api/v1/datasets/${start.datasetId}`, { token })).status).toBe(204);
    expect(await keys(start.datasetId)).toEqual([]);
    const late = await fetch(start.files[0]!.uploadUrl!, { method: 'PUT', headers: start.files[0]!.headers, body: file.content });
    expect(late.status).toBe(200);
    // The listing holds the late object first (the test would prove nothing otherwise), then nothing.
    expect((await keys(start.datasetId)).length).toBe(1);
    await waitFor(async () => ((await keys(start.datasetId)).length === 0 ? true : undefined), { timeoutMs: 20_000, what: 'the late object to be swept' });
    expect((await platform.api.request('GET', `/api/v1/datasets/${start.datasetId}`, { token })).status).toBe(404);
  });
});

function img(filename: string): LocalFile {
  return { filename, contentType: 'image/png', content: png({ width: 96 + filename.length, height: 80 }) };
}
