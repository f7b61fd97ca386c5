import { ListPartsCommand } from '@aws-sdk/client-s3';
import { RpcError } from '@flotilla/contracts';
import { isStorageUnavailable, type ObjectStorage } from '@flotilla/storage';

/** A part the store holds: its ETag and size. */
export interface StoredPart {
  etag: string;
  sizeBytes: number;
}

/**
 * The parts the store holds of an open multipart upload (ListParts, page by page), by
 * part number; `null` when the store no longer knows the upload (aborted or completed).
 */
export async function listStoredParts(storage: ObjectStorage, key: string, uploadId: string): Promise<Map<number, StoredPart> | null> {
  const parts = new Map<number, StoredPart>();
  let marker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await storage.internal.send(new ListPartsCommand({ Bucket: storage.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return null;
      throw unavailable(error);
    }
    for (const p of page.Parts ?? []) if (p.PartNumber && p.ETag) parts.set(p.PartNumber, { etag: p.ETag, sizeBytes: p.Size ?? 0 });
    if (!page.IsTruncated || !page.NextPartNumberMarker) return parts;
    marker = page.NextPartNumberMarker;
  }
}

/** S3 being down is the caller's 503 (try again); anything else stays what it is. */
export function unavailable(error: unknown): unknown {
  return isStorageUnavailable(error) ? new RpcError('UNAVAILABLE', 'Object storage is not reachable; try again shortly.') : error;
}
