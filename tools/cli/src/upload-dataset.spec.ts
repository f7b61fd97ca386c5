import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ValidationStatus } from '@flotilla/contracts';
import { ApiError, TransferError } from './errors.js';
import type { Reporter } from './reporter.js';
import { uploadDataset } from './upload-dataset.js';
import type { RetryNotice } from './uploader.js';
import { FakeApi, type FakeApiOptions } from './test/fake-api.js';
import { makeFolder, noise, removeFolder } from './test/folders.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const credentials = { email: 'ada@example.com', password: 'correct horse battery' };

describe('uploadDataset against a stand-in API', () => {
  let api: FakeApi | undefined;
  let folder: string | undefined;
  afterEach(async () => {
    await api?.close();
    if (folder) await removeFolder(folder);
    api = undefined;
    folder = undefined;
  });

  // 1000 bytes go in one PUT; 80 000 bytes (over the 64 KiB threshold) in parts of 32 KiB: 32768 + 32768 + 14464.
  const small = noise(1000);
  const large = noise(80_000);
  const setUp = async (options: FakeApiOptions = {}): Promise<FakeApi> => {
    folder = await makeFolder({ 'labels.csv': small, 'scan-001.dcm': large, '.DS_Store': 'x' });
    api = await FakeApi.start(options);
    return api;
  };

  it('declares, uploads and completes the files, then waits for the verdict', async () => {
    const fake = await setUp();
    const statuses: ValidationStatus[] = [];
    const progress: number[] = [];
    const reporter: Reporter = {
      validationStatus: (s) => statuses.push(s),
      uploadProgress: (p) => progress.push(p.bytesDone),
    };

    const final = await uploadDataset({ folder: folder!, profile: 'xray', name: 'batch-7', description: 'Chest X-rays', api: fake.url, credentials, pollDelayMs: 10 }, reporter);

    expect(final.status).toBe('passed');
    expect(fake.logins).toEqual([credentials]);
    expect(fake.starts).toEqual([
      {
        datasetName: 'batch-7',
        description: 'Chest X-rays',
        profile: 'xray',
        files: [
          { filename: 'labels.csv', contentType: 'text/csv', sizeBytes: 1000, sha256: sha256(small) },
          { filename: 'scan-001.dcm', contentType: 'application/dicom', sizeBytes: 80_000, sha256: sha256(large) },
        ],
      },
    ]);

    // The bytes arrived whole, the single PUT with its signed type and exact length, each part with its own length.
    expect(fake.object('labels.csv')).toEqual(small);
    expect(fake.object('scan-001.dcm')).toEqual(large);
    const single = fake.puts.find((p) => p.filename === 'labels.csv')!;
    expect(single.headers['content-length']).toBe('1000');
    expect(single.headers['content-type']).toBe('text/csv');
    expect(single.headers['transfer-encoding']).toBeUndefined();
    const parts = fake.puts.filter((p) => p.filename === 'scan-001.dcm').sort((a, b) => a.partNumber! - b.partNumber!);
    expect(parts.map((p) => [p.partNumber, p.headers['content-length']])).toEqual([
      [1, '32768'],
      [2, '32768'],
      [3, '14464'],
    ]);
    expect(fake.puts.every((p) => p.status === 200)).toBe(true);

    // complete carries every part with the ETag the storage answered, and only the multipart file.
    const etags = fake.etags('scan-001.dcm');
    const fileId = fake.puts.find((p) => p.filename === 'scan-001.dcm')!.fileId;
    expect(fake.completes).toEqual([
      { datasetId: fake.datasetId, files: [{ fileId, parts: [1, 2, 3].map((n) => ({ partNumber: n, etag: etags.get(n) })) }] },
    ]);
    expect(etags.get(1)).toMatch(/^"[0-9a-f]{32}"$/);

    // running (ETag "v1"), then If-None-Match "v1" → 304, then the verdict.
    expect(fake.statusRequests.map((r) => [r.ifNoneMatch, r.answered])).toEqual([
      [undefined, 200],
      ['"v1"', 304],
      ['"v1"', 200],
    ]);
    expect(fake.statusRequests.every((r) => r.authorization === 'Bearer access-1')).toBe(true);
    expect(statuses.map((s) => s.status)).toEqual(['running', 'passed']);
    expect(progress[progress.length - 1]).toBe(81_000);
  });

  it('retries a PUT the storage answered 500, and counts its bytes once', async () => {
    const fake = await setUp({ failPut: ({ partNumber, attempt }) => (partNumber === 2 && attempt <= 2 ? 500 : undefined) });
    const retries: RetryNotice[] = [];
    const progress: number[] = [];

    const final = await uploadDataset(
      { folder: folder!, profile: 'xray', api: fake.url, credentials, retryDelayMs: 5, concurrency: 1 },
      { retry: (n) => retries.push(n), uploadProgress: (p) => progress.push(p.bytesDone) },
    );

    expect(final.status).toBe('passed');
    expect(fake.puts.filter((p) => p.partNumber === 2).map((p) => p.status)).toEqual([500, 500, 200]);
    expect(retries.map((r) => [r.filename, r.partNumber, r.attempt])).toEqual([
      ['scan-001.dcm', 2, 1],
      ['scan-001.dcm', 2, 2],
    ]);
    expect(retries[0]!.reason).toBe('500 InternalError: We encountered an internal error. Please try again.');
    expect(fake.object('scan-001.dcm')).toEqual(large);
    expect(Math.max(...progress)).toBe(81_000);
    expect(fake.completes[0]!.files![0]!.parts).toHaveLength(3);
  });

  it('gives up after three retries and completes nothing', async () => {
    const fake = await setUp({ failPut: ({ filename }) => (filename === 'labels.csv' ? 503 : undefined) });
    const error = await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as Error).message).toMatch(/^Uploading labels\.csv failed \(after 4 tries\): 503 InternalError/);
    expect(fake.puts.filter((p) => p.filename === 'labels.csv')).toHaveLength(4);
    expect(fake.completes).toEqual([]);
  });

  it('does not retry what a retry cannot fix (403)', async () => {
    const fake = await setUp({ failPut: ({ filename }) => (filename === 'labels.csv' ? 403 : undefined) });
    await expect(uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials, retryDelayMs: 1 })).rejects.toThrow(/Uploading labels\.csv failed: 403/);
    expect(fake.puts.filter((p) => p.filename === 'labels.csv')).toHaveLength(1);
  });

  it('uses an access token as it is, without signing in', async () => {
    const fake = await setUp();
    await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials: { token: 'access-1' }, wait: false });
    expect(fake.logins).toEqual([]);
    expect(fake.starts).toHaveLength(1);
  });

  it('refreshes an expired access token once and goes on', async () => {
    // Each token is good for three requests: start, complete and the first status poll.
    const fake = await setUp({ tokenUses: 3 });
    const final = await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials, pollDelayMs: 5 });
    expect(final.status).toBe('passed');
    expect(fake.refreshes).toEqual(['refresh-1']);
    expect(fake.unauthorised).toEqual([`GET /api/v1/validation/${fake.datasetId}/status`]);
    expect(fake.statusRequests.map((r) => r.authorization)).toEqual(['Bearer access-1', 'Bearer access-2', 'Bearer access-2']);
  });

  it('waits out a few transient status failures', async () => {
    const fake = await setUp({ statusFailures: [503, 503] });
    const final = await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials, pollDelayMs: 5 });
    expect(final.status).toBe('passed');
    expect(fake.statusRequests.map((r) => r.answered).slice(0, 3)).toEqual([503, 503, 200]);
  });

  it('with wait: false returns the status right after completing', async () => {
    const fake = await setUp();
    const status = await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials, wait: false });
    expect(status).toMatchObject({ datasetId: fake.datasetId, jobId: fake.jobId, status: 'running' });
    expect(fake.statusRequests).toHaveLength(1);
  });

  it('sends the edition of a teams-json dataset', async () => {
    folder = await makeFolder({ 'teams.json': '{"teams":[]}' });
    api = await FakeApi.start();
    await uploadDataset({ folder, profile: 'teams-json', edition: 'international', api: api.url, credentials, wait: false });
    expect(api.starts[0]).toMatchObject({ profile: 'teams-json', options: { edition: 'international' }, datasetName: expect.stringMatching(/^flotilla-cli-/) });
  });

  it('reports the problem+json of a refused start', async () => {
    const fake = await setUp({ startProblem: { status: 422, title: 'Unprocessable Entity', detail: 'The files cannot be accepted.', errors: [{ path: 'files[1].sizeBytes', message: 'over the limit' }] } });
    const error = (await uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials }).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.problem?.title).toBe('Unprocessable Entity');
    expect(error.message).toBe(
      'POST /api/v1/upload/start answered 422: Unprocessable Entity — The files cannot be accepted.\n  - files[1].sizeBytes: over the limit',
    );
  });

  it('closes the reporter whatever happens', async () => {
    const fake = await setUp({ email: 'someone@else' });
    let closed = false;
    await expect(uploadDataset({ folder: folder!, profile: 'xray', api: fake.url, credentials }, { close: () => (closed = true) })).rejects.toThrow(/answered 401/);
    expect(closed).toBe(true);
  });
});
