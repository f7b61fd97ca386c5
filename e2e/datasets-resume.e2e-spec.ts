import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { png } from '@flotilla/samples';
import { EMBEDDED_S3_CREDENTIALS } from '@flotilla/storage';
import { waitFor } from '@flotilla/testing';
import { verifyPresignedRequest } from '../libs/storage/test/sigv4-verifier.js';
import { ADMIN, Platform } from './support/platform.js';
import { startUpload, type LocalFile, type StartBody } from './support/datasets.js';

const MiB = 1024 * 1024;

interface ResumeBody {
  datasetId: string;
  expiresIn: number;
  files: { fileId: string; filename: string; uploaded: boolean; parts?: { partNumber: number; uploaded: boolean; etag?: string }[] }[];
  targets: StartBody['files'];
}

/**
 * `GET /datasets/{id}/upload` (API.md, Datasets: resume): what the store holds is asked of
 * the store itself (ListParts, HEAD), only the rest is signed, the owner's team alone may
 * ask, and a completed or swept upload is refused.
 */
describe('datasets: an upload that resumes', () => {
  // Parts of 5 MiB above 5 MiB; the sweep clears an expired upload 20 s after its URLs expired.
  const platform = new Platform({}, ['gateway', 'upload'], {
    envOf: (name): Record<string, string> =>
      name === 'upload'
        ? {
            UPLOAD_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
            UPLOAD_PART_SIZE_BYTES: String(5 * MiB),
            UPLOAD_URL_TTL_SECONDS: '60',
            UPLOAD_EXPIRY_GRACE_SECONDS: '20',
            UPLOAD_SWEEP_INTERVAL_SECONDS: '1',
          }
        : {},
  });
  let token: string;
  let otherToken: string;
  const big: LocalFile = { filename: 'big.png', contentType: 'image/png', content: randomBytes(12 * MiB) };
  const small: LocalFile = { filename: 'small.png', contentType: 'image/png', content: png({ width: 8, height: 8 }) };

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    for (const [team, email] of [['resume', 'r@resume.test'], ['other', 'o@other.test']]) {
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: team } });
      const user = await platform.api.request('POST', '/api/v1/admin/users', {
        token: admin,
        body: { email, password: 'member-password-123', teamId: created.body.id, role: 'member' },
      });
      expect(user.status).toBe(201);
    }
    token = await platform.api.login('r@resume.test', 'member-password-123');
    otherToken = await platform.api.login('o@other.test', 'member-password-123');
  }, 120_000);

  afterAll(() => platform.stop());

  const resume = (datasetId: string, as = token) => platform.api.request<ResumeBody>('GET', `/api/v1/datasets/${datasetId}/upload`, { token: as });
  const put = (url: string, body: Buffer, headers: Record<string, string> = {}) => fetch(url, { method: 'PUT', headers, body });

  it('lists the parts and files already held and signs only the missing ones, which complete the upload', async () => {
    const start = await startUpload(platform.api, token, 'half-sent', 'xray', [big, small]);
    const multipart = start.files.find((f) => f.filename === 'big.png')!.multipart!;
    expect(multipart.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const first = await put(multipart.parts[0]!.uploadUrl, big.content.subarray(0, 5 * MiB));
    expect(first.status).toBe(200);
    // Part 3 cut short: a part of the wrong length is sent again.
    expect((await put(multipart.parts[2]!.uploadUrl, big.content.subarray(10 * MiB, 11 * MiB))).status).toBe(200);

    const res = await resume(start.datasetId);
    expect(res.status).toBe(200);
    const bigState = res.body.files.find((f) => f.filename === 'big.png')!;
    expect(bigState).toEqual({
      fileId: expect.any(String),
      filename: 'big.png',
      uploaded: false,
      parts: [
        { partNumber: 1, uploaded: true, etag: first.headers.get('etag') },
        { partNumber: 2, uploaded: false },
        { partNumber: 3, uploaded: false },
      ],
    });
    expect(res.body.files.find((f) => f.filename === 'small.png')).toEqual({ fileId: expect.any(String), filename: 'small.png', uploaded: false });
    expect(res.body.targets.map((t) => t.filename).sort()).toEqual(['big.png', 'small.png']);
    const bigTarget = res.body.targets.find((t) => t.filename === 'big.png')!.multipart!;
    expect(bigTarget.parts.map((p) => [p.partNumber, p.sizeBytes])).toEqual([
      [2, 5 * MiB],
      [3, 2 * MiB],
    ]);
    expect(bigTarget.uploadId).toBe(multipart.uploadId);

    const smallTarget = res.body.targets.find((t) => t.filename === 'small.png')!;
    expect((await put(smallTarget.uploadUrl!, small.content, smallTarget.headers)).status).toBe(200);
    const etags = [{ partNumber: 1, etag: first.headers.get('etag')! }];
    for (const part of bigTarget.parts) {
      const sent = await put(part.uploadUrl, big.content.subarray((part.partNumber - 1) * 5 * MiB, (part.partNumber - 1) * 5 * MiB + part.sizeBytes));
      expect(sent.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: sent.headers.get('etag')! });
    }
    // Everything is there now: nothing left to sign.
    const again = await resume(start.datasetId);
    expect(again.body.targets).toEqual([]);
    expect(again.body.files.every((f) => f.uploaded)).toBe(true);
    expect(again.body.files.find((f) => f.filename === 'big.png')!.parts!.map((p) => p.etag)).toEqual(etags.map((e) => e.etag));

    const fileId = start.files.find((f) => f.filename === 'big.png')!.fileId;
    const done = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: start.datasetId, files: [{ fileId, parts: etags }] } });
    expect(done.status).toBe(202);
    // Completing again answers the same job (the CLI retries it).
    const repeated = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: start.datasetId, files: [{ fileId, parts: etags }] } });
    expect({ status: repeated.status, job: repeated.body.validationJobId }).toEqual({ status: 200, job: done.body.validationJobId });
    const link = await platform.api.request<{ url: string }>('GET', `/api/v1/datasets/${start.datasetId}/files/${fileId}/download`, { token });
    expect(Buffer.from(await (await fetch(link.body.url)).arrayBuffer()).equals(big.content)).toBe(true);

    // Completed: nothing to resume.
    const conflict = await resume(start.datasetId);
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it("is another team's, an unknown or a malformed id: 404, and no URL", async () => {
    const start = await startUpload(platform.api, token, 'not-yours', 'xray', [small]);
    for (const res of [await resume(start.datasetId, otherToken), await resume('0b5f4a4e-4c1e-4d7e-9d0a-1c2b3a4d5e6f'), await resume('not-an-id')]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(res.body)).not.toContain('X-Amz-Signature');
    }
  });

  it('re-signs after the first URLs expired, for the same key, method and length only, and pushes the expiry forward', async () => {
    const start = await startUpload(platform.api, token, 'expired', 'xray', [big, small]);
    const firstUrl = start.files.find((f) => f.filename === 'big.png')!.multipart!.parts[1]!.uploadUrl;
    // The embedded S3 checks a presigned URL's expiry: once it passed, the first URLs are refused.
    const expiresAt = Date.parse((start.files[0] as unknown as { expiresAt: string }).expiresAt);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1500));
    const refusedPut = await put(firstUrl, big.content.subarray(5 * MiB, 10 * MiB));
    expect({ status: refusedPut.status, body: await refusedPut.text() }).toEqual({ status: 403, body: expect.stringContaining('Request has expired') });
    const res = await resume(start.datasetId);
    expect(res.status).toBe(200);
    expect(res.body.expiresIn).toBe(60);
    const secret = EMBEDDED_S3_CREDENTIALS.secretAccessKey;
    const bigTarget = res.body.targets.find((t) => t.filename === 'big.png')!;
    const part = bigTarget.multipart!.parts.find((p) => p.partNumber === 2)!;
    const key = `/flotilla-${platform.namespace}/datasets/${start.datasetId}/${bigTarget.fileId}/big.png`;
    expect(new URL(part.uploadUrl).pathname).toBe(key);
    const sent = { method: 'PUT', url: part.uploadUrl, headers: { 'content-length': String(5 * MiB) } };
    expect(verifyPresignedRequest(sent, secret)).toEqual({ valid: true });
    expect(verifyPresignedRequest({ ...sent, method: 'GET' }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ ...sent, headers: { 'content-length': String(5 * MiB + 1) } }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ ...sent, url: part.uploadUrl.replace('partNumber=2', 'partNumber=1') }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ method: 'PUT', url: firstUrl, headers: { 'content-length': String(5 * MiB) } }, secret)).toEqual({ valid: false, reason: 'expired' });
    const smallTarget = res.body.targets.find((t) => t.filename === 'small.png')!;
    const smallSent = { method: 'PUT', url: smallTarget.uploadUrl!, headers: { ...smallTarget.headers, 'content-length': String(small.content.length) } };
    expect(verifyPresignedRequest(smallSent, secret)).toEqual({ valid: true });
    expect(verifyPresignedRequest({ ...smallSent, headers: { ...smallSent.headers, 'content-type': 'image/jpeg' } }, secret).valid).toBe(false);
    expect((await put(part.uploadUrl, big.content.subarray(5 * MiB, 10 * MiB))).status).toBe(200);

    // Past the grace the sweep would have cleared the first session; the new expiry keeps it.
    await new Promise((resolve) => setTimeout(resolve, 25_000));
    const later = await resume(start.datasetId);
    expect(later.status).toBe(200);
    expect(later.body.files.find((f) => f.filename === 'big.png')!.parts!.filter((p) => p.uploaded).map((p) => p.partNumber)).toEqual([2]);
  }, 180_000);

  it('is refused (422) once the sweep cleared the expired upload, and signs nothing', async () => {
    const start = await startUpload(platform.api, token, 'abandoned', 'xray', [big]);
    // Not asked before: each resume pushes the expiry forward. A completion with nothing
    // uploaded is refused (422) for the missing object until the sweep, then as expired.
    const cleared = await waitFor(
      async () => {
        const r = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: start.datasetId } });
        return r.status === 422 && /objects were removed/.test(JSON.stringify(r.body)) ? r : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 3000, what: 'the sweep to clear the abandoned upload' },
    );
    expect(cleared.status).toBe(422);
    const refused = await resume(start.datasetId);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(refused.body)).not.toContain('X-Amz-Signature');
  }, 200_000);

  it('resumes with the part size the upload started with, after the service restarted with another', async () => {
    const start = await startUpload(platform.api, token, 'reconfigured', 'xray', [big]);
    const multipart = start.files[0]!.multipart!;
    expect(multipart.partSizeBytes).toBe(5 * MiB);
    expect((await put(multipart.parts[0]!.uploadUrl, big.content.subarray(0, 5 * MiB))).status).toBe(200);
    const upload = platform.service('upload');
    await upload.stop();
    upload.env.UPLOAD_PART_SIZE_BYTES = String(6 * MiB);
    await upload.start();

    const res = await resume(start.datasetId);
    expect(res.status).toBe(200);
    // Part 1 as sent still counts; the rest is signed on the 5 MiB grid the store already holds a part of.
    expect(res.body.files[0]!.parts!.map((p) => [p.partNumber, p.uploaded])).toEqual([[1, true], [2, false], [3, false]]);
    const target = res.body.targets[0]!.multipart!;
    expect(target.partSizeBytes).toBe(5 * MiB);
    expect(target.parts.map((p) => [p.partNumber, p.sizeBytes])).toEqual([[2, 5 * MiB], [3, 2 * MiB]]);
    const parts = [{ partNumber: 1, etag: res.body.files[0]!.parts![0]!.etag! }];
    for (const part of target.parts) {
      const from = (part.partNumber - 1) * 5 * MiB;
      const sent = await put(part.uploadUrl, big.content.subarray(from, from + part.sizeBytes));
      expect(sent.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: sent.headers.get('etag')! });
    }
    const complete = await platform.api.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: start.datasetId, files: [{ fileId: start.files[0]!.fileId, parts }] } });
    expect(complete.status).toBe(202);
  }, 120_000);
});
