import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadEnv } from '@flotilla/config';
import { createHash } from 'node:crypto';
import {
  copyObjectIfMatch,
  listMultipartUploads,
  ObjectStorage,
  presignChecksummedPut,
  putAbortIncompleteMultipartRule,
  StorageEnv,
  startEmbeddedS3,
  type EmbeddedS3,
} from '../src/index.js';
import { verifyPresignedRequest } from './sigv4-verifier.js';

const SECRET = 'integrity-test-secret';

describe('object integrity helpers against the embedded S3', () => {
  let s3: EmbeddedS3;
  let storage: ObjectStorage;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'integrity-test', S3_SECRET_ACCESS_KEY: SECRET }));
    await storage.ensureBucket();
  });

  afterAll(() => s3.close());

  it('signs the declared SHA-256 into a PUT URL: only a request carrying that checksum is accepted (the store then checks the body against it)', async () => {
    const body = Buffer.from('the bytes that were declared');
    const hex = createHash('sha256').update(body).digest('hex');
    const put = await presignChecksummedPut(storage, 'k/a.png', { contentLength: body.length, contentType: 'image/png', sha256Hex: hex, expiresInSeconds: 600 });
    const checksum = Buffer.from(hex, 'hex').toString('base64');
    expect(put.headers).toEqual({ 'content-type': 'image/png', 'x-amz-checksum-sha256': checksum });
    const url = new URL(put.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host', 'x-amz-checksum-sha256']);
    // The checksum is a header, not a query parameter: S3 compares that header with the body.
    expect([...url.searchParams.keys()].some((k) => k.toLowerCase().includes('checksum'))).toBe(false);
    const sent: Record<string, string> = { 'content-length': String(body.length), ...put.headers };
    const other = createHash('sha256').update('other bytes, same length here').digest('base64');
    const { 'x-amz-checksum-sha256': _dropped, ...unchecked } = sent;
    const request = (headers: Record<string, string>) => ({ method: 'PUT', url: put.url, headers });
    expect(verifyPresignedRequest(request(sent), SECRET)).toEqual({ valid: true });
    expect(verifyPresignedRequest(request({ ...sent, 'x-amz-checksum-sha256': other }), SECRET).valid).toBe(false);
    expect(verifyPresignedRequest(request(unchecked), SECRET)).toEqual({ valid: false, reason: 'signed header x-amz-checksum-sha256 not sent' });
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body })).status).toBe(200);
  });

  it('copies an object while its ETag is the one given, and answers the copy\'s ETag', async () => {
    await storage.putObject('k/src', Buffer.from('original'), 'text/plain');
    const head = (await storage.head('k/src'))!;
    const etag = await copyObjectIfMatch(storage, 'k/src', 'k/final/dst', head.etag);
    expect(etag.replace(/"/g, '')).toBe(head.etag.replace(/"/g, ''));
    expect((await storage.head('k/final/dst'))!.sizeBytes).toBe(8);
  });

  it('lists open multipart uploads by prefix, and an abort removes one from the listing', async () => {
    const a = await storage.createMultipartUpload('m/a/one.bin', 'application/octet-stream');
    const b = await storage.createMultipartUpload('n/b/two.bin', 'application/octet-stream');
    expect((await listMultipartUploads(storage, 'm/')).map((u) => [u.key, u.uploadId])).toEqual([['m/a/one.bin', a]]);
    await storage.abortMultipartUpload('m/a/one.bin', a);
    expect(await listMultipartUploads(storage, 'm/')).toEqual([]);
    expect((await listMultipartUploads(storage, 'n/')).map((u) => u.uploadId)).toEqual([b]);
    // Aborting again is done already (NoSuchUpload counts as done).
    await expect(storage.abortMultipartUpload('m/a/one.bin', a)).resolves.toBeUndefined();
  });

  it('reports that the embedded store has no lifecycle rules instead of throwing', async () => {
    expect(await putAbortIncompleteMultipartRule(storage, 8)).toBe(false);
  });
});
