import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { UploadedFile } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, HEAD_BYTES } from '../profiles/index.js';
import { readObject } from './object-reader.js';

const hex = (algorithm: string, content: Buffer): string => createHash(algorithm).update(content).digest('hex');

/** `content` as a stream of pieces `sizes` long, in turn. */
function chunked(content: Buffer, sizes: number[]): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < content.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(content.subarray(at, at + size));
    at += size;
  }
  return Readable.from(pieces);
}

function file(sizeBytes: number): UploadedFile {
  return { fileId: randomUUID(), filename: 'scan.png', contentType: 'image/png', sizeBytes, key: 'datasets/x/scan.png' };
}

describe('readObject', () => {
  it.each([
    ['smaller than the head, in odd pieces', 1000, [7, 300]],
    ['exactly the head', HEAD_BYTES, [65_536]],
    ['larger than the head, pieces across its end', HEAD_BYTES * 3 + 17, [65_537, 1000]],
  ])('keeps the first HEAD_BYTES and hashes every byte: %s', async (_, size, sizes) => {
    const content = randomBytes(size);
    let reported = 0;
    const facts = await readObject(chunked(content, sizes), file(size), { wantBody: false, onBytes: (n) => (reported += n) });
    expect(facts.head.equals(content.subarray(0, HEAD_BYTES))).toBe(true);
    expect(facts).toMatchObject({ size, sha256: hex('sha256', content), md5: hex('md5', content) });
    expect(facts.body).toBeUndefined();
    expect(reported).toBe(size);
  });

  it('reads what is there when the object is longer or shorter than declared', async () => {
    const content = randomBytes(5000);
    const longer = await readObject(chunked(content, [999]), file(100), { wantBody: false, onBytes: () => undefined });
    expect(longer.head.equals(content)).toBe(true);
    expect(longer).toMatchObject({ size: 5000, declaredSize: 100 });
    const shorter = await readObject(chunked(content, [999]), file(HEAD_BYTES), { wantBody: false, onBytes: () => undefined });
    expect(shorter.head.equals(content)).toBe(true);
    expect(shorter.size).toBe(5000);
    const empty = await readObject(Readable.from([]), file(10), { wantBody: true, onBytes: () => undefined });
    expect(empty.head.length).toBe(0);
    expect(empty.body?.length).toBe(0);
  });

  it('keeps the whole content when asked, and none of it beyond BODY_LIMIT_BYTES', async () => {
    const content = randomBytes(3000);
    const kept = await readObject(chunked(content, [1024]), file(3000), { wantBody: true, onBytes: () => undefined });
    expect(kept.body?.equals(content)).toBe(true);
    const big = Buffer.alloc(BODY_LIMIT_BYTES + 1);
    const dropped = await readObject(chunked(big, [1024 * 1024]), file(big.length), { wantBody: true, onBytes: () => undefined });
    expect(dropped.body).toBeUndefined();
    expect(dropped.size).toBe(big.length);
  });
});
