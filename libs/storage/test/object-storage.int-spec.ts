import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadEnv } from '@flotilla/config';
import { randomBytes } from 'node:crypto';
import { ObjectStorage, StorageEnv, startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';
import { verifyPresignedRequest } from './sigv4-verifier.js';

const SECRET = 'storage-test-secret';

describe('ObjectStorage against the embedded S3', () => {
  let s3: EmbeddedS3;
  let storage: ObjectStorage;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'storage-test', S3_SECRET_ACCESS_KEY: SECRET }));
    expect(await storage.ensureBucket()).toBe(true);
  });

  afterAll(() => s3.close());

  it('creates the bucket once and tolerates being asked again', async () => {
    expect(await storage.ensureBucket()).toBe(false);
    await expect(storage.check()).resolves.toBeUndefined();
  });

  it('takes a PUT to a presigned URL with plain fetch, and head shows it', async () => {
    const body = randomBytes(1234);
    const put = await storage.presignPut('a/one.bin', { contentLength: body.length, contentType: 'application/octet-stream', expiresInSeconds: 60 });
    const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body });
    expect(res.status).toBe(200);
    expect(await storage.head('a/one.bin')).toMatchObject({ sizeBytes: 1234 });
    expect(await storage.head('a/none.bin')).toBeNull();
  });

  it('assembles a multipart upload from presigned part URLs, and streams it back', async () => {
    const part = 5 * 1024 * 1024;
    const body = randomBytes(2 * part + 1000);
    const uploadId = await storage.createMultipartUpload('big/file.bin', 'application/octet-stream');
    const parts: { partNumber: number; etag: string }[] = [];
    for (let n = 1; n <= 3; n++) {
      const url = await storage.presignUploadPart('big/file.bin', uploadId, n, 60);
      const res = await fetch(url, { method: 'PUT', body: body.subarray((n - 1) * part, n * part) });
      expect(res.status).toBe(200);
      parts.push({ partNumber: n, etag: res.headers.get('etag')! });
    }
    await storage.completeMultipartUpload('big/file.bin', uploadId, parts);
    expect((await storage.head('big/file.bin'))?.sizeBytes).toBe(body.length);
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.getStream('big/file.bin')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it('deletes exactly one prefix', async () => {
    for (const key of ['p/1/a', 'p/1/b', 'p/10/c', 'q/1/d']) await storage.putObject(key, key, 'text/plain');
    expect(await storage.deletePrefix('p/1/')).toBe(2);
    expect(await storage.head('p/1/a')).toBeNull();
    expect(await storage.head('p/10/c')).not.toBeNull();
    expect(await storage.head('q/1/d')).not.toBeNull();
  });

  it('signs GET URLs that download under the file name', async () => {
    await storage.putObject('d/report.json', '{"ok":true}', 'application/json');
    const { url } = await storage.presignGet('d/report.json', { expiresInSeconds: 60, downloadFilename: 'rapport é.json' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"ok":true}');
    expect(new URL(url).searchParams.get('response-content-disposition')).toBe(`attachment; filename="rapport _.json"; filename*=UTF-8''rapport%20%C3%A9.json`);
  });

  describe('the scope of presigned URLs (what S3 checks and the embedded S3 does not)', () => {
    const length = 2048;
    let put: Awaited<ReturnType<ObjectStorage['presignPut']>>;
    const sent = () => ({ method: 'PUT', url: put.url, headers: { ...put.headers, 'content-length': String(length) } });

    beforeAll(async () => {
      put = await storage.presignPut('datasets/ds/f/scan.png', { contentLength: length, contentType: 'image/png', expiresInSeconds: 900 });
    });

    it('holds exactly the request it was made for', () => {
      expect(verifyPresignedRequest(sent(), SECRET)).toEqual({ valid: true });
      const q = new URL(put.url).searchParams;
      expect(q.get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host']);
      expect(q.get('X-Amz-Expires')).toBe('900');
      expect([...q.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    });

    it.each([
      ['another method', (r: ReturnType<typeof sent>) => ({ ...r, method: 'GET' })],
      ['another key', (r: ReturnType<typeof sent>) => ({ ...r, url: r.url.replace('scan.png', 'other.png') })],
      ['another length', (r: ReturnType<typeof sent>) => ({ ...r, headers: { ...r.headers, 'content-length': String(length + 1) } })],
      ['another content type', (r: ReturnType<typeof sent>) => ({ ...r, headers: { ...r.headers, 'content-type': 'text/html' } })],
      ['another secret', (r: ReturnType<typeof sent>) => r, 'wrong-secret'],
    ])('is refused for %s', (_, change, secret = SECRET) => {
      expect(verifyPresignedRequest(change(sent()), secret)).toEqual({ valid: false, reason: 'signature does not match the request' });
    });

    it('expires', () => {
      expect(verifyPresignedRequest(sent(), SECRET, new Date(Date.now() + 901_000))).toEqual({ valid: false, reason: 'expired' });
    });

    it('scopes part URLs to one upload and one part', async () => {
      const url = await storage.presignUploadPart('datasets/ds/f/big.nii', 'upload-1', 7, 600);
      const request = { method: 'PUT', url, headers: {} };
      expect(verifyPresignedRequest(request, SECRET)).toEqual({ valid: true });
      expect(verifyPresignedRequest({ ...request, url: url.replace('partNumber=7', 'partNumber=8') }, SECRET)).toMatchObject({ valid: false });
      expect(verifyPresignedRequest({ ...request, url: url.replace('uploadId=upload-1', 'uploadId=upload-2') }, SECRET)).toMatchObject({ valid: false });
    });

    it('signs for the public endpoint when clients reach S3 under another name', async () => {
      const split = new ObjectStorage(
        loadEnv(StorageEnv, { S3_ENDPOINT: s3.endpoint, S3_PUBLIC_ENDPOINT: 'https://files.example.com', S3_BUCKET: 'storage-test', S3_SECRET_ACCESS_KEY: SECRET }),
      );
      const signed = await split.presignPut('k.png', { contentLength: 10, contentType: 'image/png', expiresInSeconds: 60 });
      expect(new URL(signed.url).host).toBe('files.example.com');
      expect(verifyPresignedRequest({ method: 'PUT', url: signed.url, headers: { ...signed.headers, 'content-length': '10' } }, SECRET)).toEqual({ valid: true });
    });
  });
});
