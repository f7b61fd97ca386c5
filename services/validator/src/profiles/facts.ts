import { createHash } from 'node:crypto';
import { BODY_LIMIT_BYTES, HEAD_BYTES, type FileFacts, type Profile } from './profile.js';

/**
 * The facts the validator would read from `content`, for content already in memory
 * (a local check, a test). By default the declared size and checksum are the real
 * ones; pass others to see how a profile treats a mismatch.
 */
export function factsOf(
  profile: Profile,
  file: { fileId?: string; filename: string; contentType: string; content: Buffer; declaredSize?: number; declaredSha256?: string },
): FileFacts {
  const { content } = file;
  const wantsBody = profile.wantsBody({ filename: file.filename, contentType: file.contentType, sizeBytes: file.declaredSize ?? content.length });
  return {
    fileId: file.fileId ?? file.filename,
    filename: file.filename,
    contentType: file.contentType,
    declaredSize: file.declaredSize ?? content.length,
    ...(file.declaredSha256 !== undefined ? { declaredSha256: file.declaredSha256 } : {}),
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    md5: createHash('md5').update(content).digest('hex'),
    head: content.subarray(0, HEAD_BYTES),
    ...(wantsBody && content.length <= BODY_LIMIT_BYTES ? { body: content } : {}),
  };
}
