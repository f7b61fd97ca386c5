import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { UploadedFile } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, HEAD_BYTES, type FileFacts } from '../profiles/index.js';

/**
 * Reads one object once, as a stream: SHA-256 and MD5 as the bytes pass, the first
 * `HEAD_BYTES` kept for format checks, and the whole content kept only when the
 * profile needs it (manifests, JSON) and it is at most `BODY_LIMIT_BYTES`. Memory stays
 * bounded by those two limits, whatever the object's size. `onBytes` reports progress.
 */
export async function readObject(
  stream: Readable,
  file: UploadedFile,
  options: { wantBody: boolean; onBytes: (bytes: number) => void },
): Promise<FileFacts> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const head: Buffer[] = [];
  let headBytes = 0;
  let body: Buffer[] | undefined = options.wantBody ? [] : undefined;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    md5.update(chunk);
    size += chunk.length;
    if (headBytes < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - headBytes);
      head.push(Buffer.from(part));
      headBytes += part.length;
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
    head: Buffer.concat(head),
    ...(body ? { body: Buffer.concat(body) } : {}),
  };
}
