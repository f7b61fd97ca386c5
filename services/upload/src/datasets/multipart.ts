import type { Logger } from '@nestjs/common';
import type { ObjectStorage } from '@flotilla/storage';

/** Aborts unfinished multipart uploads; a failure is logged, not thrown (the store's lifecycle rule and the sweep try again). */
export async function abortMultipartUploads(storage: ObjectStorage, logger: Logger, uploads: { key: string; uploadId: string }[]): Promise<void> {
  await Promise.all(
    uploads.map((u) => storage.abortMultipartUpload(u.key, u.uploadId).catch((e: unknown) => logger.warn(`abort of ${u.key} failed: ${String(e)}`))),
  );
}
