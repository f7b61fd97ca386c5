import { beforeAll, describe, expect, it } from '@jest/globals';
import { ObjectStorage } from './object-storage.js';
import { StorageEnv } from './storage.env.js';

const storage = new ObjectStorage(Object.assign(new StorageEnv(), { S3_ENDPOINT: 'http://127.0.0.1:9', S3_ACCESS_KEY_ID: 'key', S3_SECRET_ACCESS_KEY: 'secret' }));

/** Whether a callback queued for the next turn of the event loop has run by the time `work` resolves. */
async function letsTheLoopTurn(work: () => Promise<unknown>): Promise<boolean> {
  let turned = false;
  setImmediate(() => (turned = true));
  await work();
  return turned;
}

// Signing alone settles through promise microtasks: without a turn of the event loop in
// between, a burst of it holds off every socket read and timer of the service.
describe('presigning yields to the event loop', () => {
  // The first signature resolves the client's region and credentials, which may take a turn of its own.
  beforeAll(() => storage.presignGet('warm-up', { expiresInSeconds: 60 }));

  it('a PUT URL', async () => {
    expect(await letsTheLoopTurn(() => storage.presignPut('k/a.png', { contentLength: 10, contentType: 'image/png', expiresInSeconds: 60 }))).toBe(true);
  });

  it('a part URL', async () => {
    expect(await letsTheLoopTurn(() => storage.presignUploadPart('k/a.nii', { uploadId: 'u', partNumber: 1, contentLength: 10, expiresInSeconds: 60 }))).toBe(true);
  });

  it('a GET URL', async () => {
    expect(await letsTheLoopTurn(() => storage.presignGet('k/a.png', { expiresInSeconds: 60, downloadFilename: 'a.png' }))).toBe(true);
  });
});
