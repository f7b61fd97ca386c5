import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { FileTarget } from '@flotilla/contracts';
import { ProtocolError } from './errors.js';
import { ApiClient } from './http.js';
import { listFolder, type FolderFile } from './scan.js';
import { planUploads, uploadFiles } from './uploader.js';
import { FakeApi } from './test/fake-api.js';
import { makeFolder, noise, removeFolder } from './test/folders.js';

const file = (filename: string, sizeBytes: number): FolderFile => ({ filename, path: join('/data', filename), sizeBytes, contentType: 'application/dicom' });
const expiresAt = '2030-01-01T00:00:00Z';
/** Parts listed last first; each signed for its share of a file of `fileSize` bytes. */
const multipart = (fileId: string, filename: string, partSizeBytes: number, count: number, fileSize = partSizeBytes * count): FileTarget => ({
  fileId,
  filename,
  multipart: {
    uploadId: 'u',
    partSizeBytes,
    parts: Array.from({ length: count }, (_, i) => count - i).map((n) => ({
      partNumber: n,
      sizeBytes: Math.min(partSizeBytes, fileSize - (n - 1) * partSizeBytes),
      uploadUrl: `http://s/${n}`,
    })),
  },
  expiresAt,
});

describe('planUploads', () => {
  it('cuts a multipart file into its parts, in part order, and keeps the signed headers of a single PUT', () => {
    const plan = planUploads(
      [file('a.dcm', 250), file('b.dcm', 10)],
      [multipart('f1', 'a.dcm', 100, 3, 250), { fileId: 'f2', filename: 'b.dcm', method: 'PUT', uploadUrl: 'http://s/b', headers: { 'Content-Type': 'application/dicom', 'x-amz-meta-k': 'v' }, expiresAt }],
    );
    expect(plan.multipartFileIds).toEqual(['f1']);
    expect(plan.units.map((u) => [u.fileId, u.partNumber, u.start, u.length, u.url])).toEqual([
      ['f1', 1, 0, 100, 'http://s/1'],
      ['f1', 2, 100, 100, 'http://s/2'],
      ['f1', 3, 200, 50, 'http://s/3'],
      ['f2', undefined, 0, 10, 'http://s/b'],
    ]);
    expect(plan.units[3]!.headers).toEqual({ 'content-type': 'application/dicom', 'x-amz-meta-k': 'v' });
  });

  it('refuses targets that do not match the files', () => {
    expect(() => planUploads([file('a.dcm', 250)], [multipart('f1', 'a.dcm', 100, 2)])).toThrow(ProtocolError);
    expect(() => planUploads([file('a.dcm', 250)], [multipart('f1', 'a.dcm', 0, 1)])).toThrow(/expected parts 1 to/);
    expect(() => planUploads([file('a.dcm', 250)], [multipart('f1', 'a.dcm', 100, 3)])).toThrow(/signed part 3 of "a.dcm" for 100 bytes; that part holds 50/);
    expect(() => planUploads([file('a.dcm', 1)], [])).toThrow(/no target for "a.dcm"/);
    expect(() => planUploads([], [multipart('f1', 'x.dcm', 100, 1)])).toThrow(/which was not declared/);
    expect(() => planUploads([file('a.dcm', 1)], [multipart('f1', 'a.dcm', 100, 1, 1), multipart('f2', 'a.dcm', 100, 1, 1)])).toThrow(/two targets/);
  });

  it('takes the missing parts and files only when resuming, still checking each part', () => {
    const target = multipart('f1', 'a.dcm', 100, 3, 250);
    const missing = { ...target, multipart: { ...(target as { multipart: { uploadId: string; partSizeBytes: number; parts: { partNumber: number; sizeBytes: number; uploadUrl: string }[] } }).multipart } };
    missing.multipart.parts = missing.multipart.parts.filter((p) => p.partNumber !== 2);
    const plan = planUploads([file('a.dcm', 250), file('b.dcm', 5)], [missing], true);
    expect(plan.units.map((u) => [u.partNumber, u.start, u.length])).toEqual([
      [1, 0, 100],
      [3, 200, 50],
    ]);
    expect(() => planUploads([file('a.dcm', 250)], [missing])).toThrow(/expected parts 1 to 3/);
    const beyond = { ...missing, multipart: { ...missing.multipart, parts: [{ partNumber: 4, sizeBytes: 50, uploadUrl: 'http://s/4' }] } };
    expect(() => planUploads([file('a.dcm', 250)], [beyond], true)).toThrow(/expected parts 1 to 3/);
  });
});

describe('uploadFiles', () => {
  let api: FakeApi | undefined;
  let folder: string | undefined;
  afterEach(async () => {
    await api?.close();
    if (folder) await removeFolder(folder);
  });

  it('uploads empty files and files of exactly one part size', async () => {
    const exact = noise(64 * 1024 + 32 * 1024); // over the threshold: parts of 32 KiB, the last one full
    folder = await makeFolder({ 'empty.csv': '', 'exact.dcm': exact });
    api = await FakeApi.start();
    const client = new ApiClient(api.url, { token: 'access-1' });
    const { files } = await listFolder(folder);
    const started = await client.startUpload({ datasetName: 'd', profile: 'xray', files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes })) });
    const completed = await uploadFiles(files, started.files, { concurrency: 3 });
    expect(api.object('empty.csv')).toEqual(Buffer.alloc(0));
    expect(api.puts.find((p) => p.filename === 'empty.csv')!.headers['content-length']).toBe('0');
    expect(api.object('exact.dcm')).toEqual(exact);
    expect(completed).toEqual([{ fileId: expect.any(String), parts: [1, 2, 3].map((n) => ({ partNumber: n, etag: api!.etags('exact.dcm').get(n) })) }]);
  });

  it('stops the other uploads when one fails for good', async () => {
    folder = await makeFolder(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, '0')}.png`, noise(2000)])));
    api = await FakeApi.start({ failPut: ({ filename }) => (filename === 'f00.png' ? 400 : undefined) });
    const client = new ApiClient(api.url, { token: 'access-1' });
    const { files } = await listFolder(folder);
    const started = await client.startUpload({ datasetName: 'd', profile: 'xray', files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes })) });
    await expect(uploadFiles(files, started.files, { concurrency: 2 })).rejects.toThrow(/Uploading f00\.png failed: 400 InternalError/);
    expect(api.puts.length).toBeLessThan(12);
  });
});
