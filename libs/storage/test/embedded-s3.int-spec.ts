import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';

/** A GET with a Host header of our choosing (fetch does not allow setting it). */
function getStatus(endpoint: string, path: string, host: string): Promise<number> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    http
      .get({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('startEmbeddedS3', () => {
  const started: EmbeddedS3[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a free port with the buckets asked for, and removes its temporary directory on close', async () => {
    const s3 = await startEmbeddedS3({ buckets: ['alpha', 'beta'] });
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.credentials).toEqual({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    const listing = await (await fetch(`${s3.endpoint}/`)).text();
    expect(listing.match(/<Name>[^<]+<\/Name>/g)).toEqual(['<Name>alpha</Name>', '<Name>beta</Name>']);
    expect(existsSync(s3.directory)).toBe(true);
    await s3.close();
    expect(existsSync(s3.directory)).toBe(false);
  });

  it('keeps a directory it was given', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'storage-test-'));
    dirs.push(directory);
    const s3 = await startEmbeddedS3({ directory, buckets: ['kept'] });
    await s3.close();
    expect(existsSync(join(directory, 'kept'))).toBe(true);
  });

  it('rejects when the port is taken, instead of ending the process', async () => {
    const first = await startEmbeddedS3();
    started.push(first);
    await expect(startEmbeddedS3({ port: Number(new URL(first.endpoint).port) })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('answers path-style requests whatever host name clients use (not taking it for a bucket)', async () => {
    const s3 = await startEmbeddedS3({ buckets: ['data'] });
    started.push(s3);
    const port = new URL(s3.endpoint).port;
    expect(await getStatus(s3.endpoint, '/data', `files.example.com:${port}`)).toBe(200);
    expect(await getStatus(s3.endpoint, '/data', `s3:${port}`)).toBe(200);
  });
});
