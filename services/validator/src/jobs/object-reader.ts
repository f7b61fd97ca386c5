import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { UploadedFile } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, HEAD_BYTES, type FileFacts } from '../profiles/index.js';

/**
 * Reads one object once, as a stream: SHA-256 and MD5 as the bytes pass, the first
 * `HEAD_BYTES` kept for format checks, and the whole content kept only when the
 * profile needs it (manifests, JSON) and it is at most `BODY_LIMIT_BYTES`. Memory stays
 * bounded by those two limits, whatever the object's size. `onBytes` reports progress.
 *
 * The head is copied once, into a buffer sized from the declared size (grown should the
 * object be longer than declared), rather than collected in pieces and concatenated: each
 * byte of it is copied once, and a socket's chunk is not held by a view into it.
 */
export async function readObject(
  stream: Readable,
  file: UploadedFile,
  options: { wantBody: boolean; onBytes: (bytes: number) => void },
): Promise<FileFacts> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let head: Buffer = Buffer.allocUnsafe(Math.min(HEAD_BYTES, Math.max(0, file.sizeBytes)));
  let headBytes = 0;
  let body: Buffer[] | undefined = options.wantBody ? [] : undefined;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    md5.update(chunk);
    size += chunk.length;
    if (headBytes < HEAD_BYTES) {
      const take = Math.min(chunk.length, HEAD_BYTES - headBytes);
      if (headBytes + take > head.length) head = grown(head, headBytes, headBytes + take);
      headBytes += chunk.copy(head, headBytes, 0, take);
    }
    if (body) {
      if (size > BODY_LIMIT_BYTES) body = undefined;
      else body.push(chunk);
    }
    options.onBytes(chunk.length);
  }
  return {
    fileId: file.fileId,
    filename: file.filename,
    contentType: file.contentType,
    declaredSize: file.sizeBytes,
    ...(file.sha256 ? { declaredSha256: file.sha256.toLowerCase() } : {}),
    size,
    sha256: sha256.digest('hex'),
    md5: md5.digest('hex'),
    head: headBytes === head.length ? head : head.subarray(0, headBytes),
    ...(body ? { body: body.length === 1 ? body[0]! : Buffer.concat(body, size) } : {}),
  };
}

/** The object is longer than declared: a head buffer with room for `needed` bytes (at most HEAD_BYTES). */
function grown(head: Buffer, used: number, needed: number): Buffer {
  const next = Buffer.allocUnsafe(Math.min(HEAD_BYTES, Math.max(needed, 2 * head.length)));
  head.copy(next, 0, 0, used);
  return next;
}
