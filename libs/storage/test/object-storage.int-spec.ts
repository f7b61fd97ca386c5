import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadEnv } from '@flotilla/config';
import { createHash, randomBytes } from 'node:crypto';
import { ObjectStorage, StorageEnv, startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';
import { resignWithSdk, verifyPresignedRequest } from './sigv4-verifier.js';

const SECRET = 'storage-test-secret';
const MiB = 1024 * 1024;

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

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
    expect(put.headers).toEqual({ 'content-type': 'application/octet-stream' });
    expect(Date.parse(put.expiresAt) - Date.now()).toBeGreaterThan(55_000);
    const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body });
    expect(res.status).toBe(200);
    expect(await storage.head('a/one.bin')).toEqual({ sizeBytes: 1234, etag: `"${md5(body)}"`, contentType: 'application/octet-stream' });
    expect(await storage.head('a/none.bin')).toBeNull();
  });

  it('assembles 12 MiB uploaded in 5 MiB parts through presigned part URLs with plain fetch', async () => {
    const key = 'big/file.bin';
    const body = randomBytes(12 * MiB);
    const part = 5 * MiB;
    const uploadId = await storage.createMultipartUpload(key, 'application/octet-stream');
    const parts: { partNumber: number; etag: string }[] = [];
    for (let n = 1; (n - 1) * part < body.length; n++) {
      const chunk = body.subarray((n - 1) * part, n * part);
      const url = await storage.presignUploadPart(key, { uploadId, partNumber: n, contentLength: chunk.length, expiresInSeconds: 60 });
      const res = await fetch(url, { method: 'PUT', body: chunk });
      expect(res.status).toBe(200);
      parts.push({ partNumber: n, etag: res.headers.get('etag')! });
    }
    expect(parts).toHaveLength(3);
    await storage.completeMultipartUpload(key, uploadId, parts);
    expect(await storage.head(key)).toMatchObject({ sizeBytes: body.length, contentType: 'application/octet-stream' });
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.getStream(key)) chunks.push(chunk as Buffer);
    expect(md5(Buffer.concat(chunks))).toBe(md5(body));
  });

  it('streams an object in chunks, and stops when the signal aborts', async () => {
    const body = randomBytes(3 * MiB);
    await storage.putObject('s/stream.bin', body, 'application/octet-stream');
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of await storage.getStream('s/stream.bin')) {
      chunks++;
      bytes += (chunk as Buffer).length;
    }
    expect(bytes).toBe(body.length);
    expect(chunks).toBeGreaterThan(1);

    // Aborting stops the download: the stream fails, before the end of the object.
    const controller = new AbortController();
    let read = 0;
    const consume = (async () => {
      for await (const chunk of await storage.getStream('s/stream.bin', controller.signal)) {
        read += (chunk as Buffer).length;
        controller.abort();
      }
    })();
    await expect(consume).rejects.toBeDefined();
    expect(read).toBeLessThan(body.length);
  });

  it('lists exactly one prefix with sizes and ETags, page by page', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `l/1/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => storage.putObject(key, key, 'text/plain')));
    for (const key of ['l/10/c', 'q/l/1/d', 'l/1']) await storage.putObject(key, key, 'text/plain');
    const listed = await storage.list('l/1/');
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(listed[1002]).toEqual({ key: 'l/1/1002', sizeBytes: 8, etag: `"${md5(Buffer.from('l/1/1002'))}"` });
    expect(await storage.list('l/nothing/')).toEqual([]);
    await storage.deletePrefix('l/');
  });

  it('deletes exactly one prefix, page by page', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `p/1/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => storage.putObject(key, key, 'text/plain')));
    for (const key of ['p/10/c', 'q/p/1/d', 'p/1']) await storage.putObject(key, key, 'text/plain');
    expect(await storage.deletePrefix('p/1/')).toBe(1005);
    expect(await storage.head('p/1/0000')).toBeNull();
    expect(await storage.head('p/1/1004')).toBeNull();
    for (const key of ['p/10/c', 'q/p/1/d', 'p/1']) expect(await storage.head(key)).not.toBeNull();
    expect(await storage.deletePrefix('p/1/')).toBe(0);
  });

  it('signs GET URLs that download under the file name', async () => {
    await storage.putObject('d/report.json', '{"ok":true}', 'application/json');
    const { url, expiresAt } = await storage.presignGet('d/report.json', { expiresInSeconds: 60, downloadFilename: 'rapport é.json' });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(55_000);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="rapport _.json"; filename*=UTF-8''rapport%20%C3%A9.json`);
    expect(await res.text()).toBe('{"ok":true}');
  });

  it('deletes single objects, and a missing one without complaint', async () => {
    await storage.putObject('x/one.txt', 'one', 'text/plain');
    await storage.deleteObject('x/one.txt');
    expect(await storage.head('x/one.txt')).toBeNull();
    await expect(storage.deleteObject('x/one.txt')).resolves.toBeUndefined();
  });

  /**
   * The embedded S3 accepts any signature, so these tests check each URL as S3 would:
   * rebuild the request actually sent and sign it again, with an independent SigV4
   * implementation and with the SDK's own signer; the two must agree on every case.
   */
  describe('the scope of presigned URLs (what S3 checks and the embedded S3 does not)', () => {
    type Sent = { method: string; url: string; headers: Record<string, string> };

    async function accepted(request: Sent, secret = SECRET): Promise<boolean> {
      const independent = verifyPresignedRequest(request, secret);
      const bySdk = (await resignWithSdk(request, secret)) === new URL(request.url).searchParams.get('X-Amz-Signature');
      expect(independent.valid).toBe(bySdk);
      return bySdk;
    }

    const params = (url: string): URLSearchParams => new URL(url).searchParams;
    const checksumParams = (url: string): string[] => [...params(url).keys()].filter((k) => /checksum/i.test(k));

    describe('single PUT', () => {
      const length = 2048;
      let put: Awaited<ReturnType<ObjectStorage['presignPut']>>;
      const sent = (): Sent => ({ method: 'PUT', url: put.url, headers: { ...put.headers, 'content-length': String(length) } });

      beforeAll(async () => {
        put = await storage.presignPut('datasets/ds/f/scan.png', { contentLength: length, contentType: 'image/png', expiresInSeconds: 900 });
      });

      it('holds exactly the request it was made for', async () => {
        expect(await accepted(sent())).toBe(true);
        expect(verifyPresignedRequest(sent(), SECRET)).toEqual({ valid: true });
        expect(params(put.url).get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host']);
        expect(params(put.url).get('X-Amz-Expires')).toBe('900');
        expect(checksumParams(put.url)).toEqual([]);
      });

      it.each<[string, (r: Sent) => Sent, string?]>([
        ['another method', (r) => ({ ...r, method: 'POST' })],
        ['another key', (r) => ({ ...r, url: r.url.replace('scan.png', 'other.png') })],
        ['another length', (r) => ({ ...r, headers: { ...r.headers, 'content-length': String(length + 1) } })],
        ['another content type', (r) => ({ ...r, headers: { ...r.headers, 'content-type': 'text/html' } })],
        ['no content type', (r) => ({ ...r, headers: { 'content-length': String(length) } })],
        ['a longer expiry', (r) => ({ ...r, url: r.url.replace('X-Amz-Expires=900', 'X-Amz-Expires=604800') })],
        ['another secret', (r) => r, 'wrong-secret'],
      ])('is refused for %s', async (_, change, secret = SECRET) => {
        expect(await accepted(change(sent()), secret)).toBe(false);
      });

      it('expires', () => {
        expect(verifyPresignedRequest(sent(), SECRET, new Date(Date.now() + 901_000))).toEqual({ valid: false, reason: 'expired' });
      });
    });

    describe('multipart part PUT', () => {
      let url: string;
      const sent = (): Sent => ({ method: 'PUT', url, headers: { 'content-length': String(5 * MiB) } });

      beforeAll(async () => {
        url = await storage.presignUploadPart('datasets/ds/f/big.nii', { uploadId: 'upload-1', partNumber: 7, contentLength: 5 * MiB, expiresInSeconds: 600 });
      });

      it('holds one part, of its length, of one upload of one key, by PUT', async () => {
        expect(await accepted(sent())).toBe(true);
        expect(params(url).get('partNumber')).toBe('7');
        expect(params(url).get('uploadId')).toBe('upload-1');
        expect(params(url).get('X-Amz-Expires')).toBe('600');
        expect(params(url).get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'host']);
        expect(checksumParams(url)).toEqual([]);
      });

      it.each<[string, (r: Sent) => Sent]>([
        ['another method', (r) => ({ ...r, method: 'GET' })],
        ['one more byte', (r) => ({ ...r, headers: { 'content-length': String(5 * MiB + 1) } })],
        ['5 GiB', (r) => ({ ...r, headers: { 'content-length': String(5 * 1024 * MiB) } })],
        ['another part number', (r) => ({ ...r, url: r.url.replace('partNumber=7', 'partNumber=8') })],
        ['another upload', (r) => ({ ...r, url: r.url.replace('uploadId=upload-1', 'uploadId=upload-2') })],
        ['another key', (r) => ({ ...r, url: r.url.replace('big.nii', 'other.nii') })],
      ])('is refused for %s', async (_, change) => {
        expect(await accepted(change(sent()))).toBe(false);
      });
    });

    describe('GET', () => {
      let url: string;
      const sent = (): Sent => ({ method: 'GET', url, headers: {} });

      beforeAll(async () => {
        url = (await storage.presignGet('datasets/ds/f/scan.png', { expiresInSeconds: 300, downloadFilename: 'scan.png' })).url;
      });

      it('holds a GET of one key with its download name', async () => {
        expect(await accepted(sent())).toBe(true);
        expect(params(url).get('X-Amz-Expires')).toBe('300');
        expect(params(url).get('response-content-disposition')).toBe(`attachment; filename="scan.png"; filename*=UTF-8''scan.png`);
        expect(checksumParams(url)).toEqual([]);
      });

      it.each<[string, (r: Sent) => Sent]>([
        ['another method', (r) => ({ ...r, method: 'PUT' })],
        ['another key', (r) => ({ ...r, url: r.url.replace('scan.png?', 'other.png?') })],
        ['another download name', (r) => ({ ...r, url: r.url.replace(/filename%3D%22scan\.png/, 'filename%3D%22evil.html') })],
      ])('is refused for %s', async (_, change) => {
        const changed = change(sent());
        expect(changed).not.toEqual(sent());
        expect(await accepted(changed)).toBe(false);
      });
    });

    it('signs for the public endpoint when clients reach S3 under another name', async () => {
      const split = new ObjectStorage(
        loadEnv(StorageEnv, { S3_ENDPOINT: s3.endpoint, S3_PUBLIC_ENDPOINT: 'https://files.example.com', S3_BUCKET: 'storage-test', S3_SECRET_ACCESS_KEY: SECRET }),
      );
      const put = await split.presignPut('k.png', { contentLength: 10, contentType: 'image/png', expiresInSeconds: 60 });
      const part = await split.presignUploadPart('k.bin', { uploadId: 'u', partNumber: 1, contentLength: 10, expiresInSeconds: 60 });
      const get = (await split.presignGet('k.png', { expiresInSeconds: 60 })).url;
      for (const url of [put.url, part, get]) expect(new URL(url).origin).toBe('https://files.example.com');
      const request = { method: 'PUT', url: put.url, headers: { ...put.headers, 'content-length': '10' } };
      expect(await accepted(request)).toBe(true);
      // The same request sent to the internal name is another host, so another signature.
      expect(await accepted({ ...request, url: put.url.replace('https://files.example.com', s3.endpoint) })).toBe(false);
      // The service's own calls still go to the internal endpoint.
      await split.putObject('k.txt', 'internal', 'text/plain');
      expect(await storage.head('k.txt')).toMatchObject({ sizeBytes: 8 });
    });
  });
});
