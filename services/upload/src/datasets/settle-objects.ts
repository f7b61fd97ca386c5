import type { RpcFieldError } from '@flotilla/contracts';
import { copyObjectIfMatch, type ListedObject, type ObjectStorage } from '@flotilla/storage';
import { datasetPrefix, type FileRow } from './dataset-records.js';

/** A file's object as completion fixed it: at its object key, with the ETag that was checked. */
export interface SettledObject {
  fileId: string;
  etag: string;
  /** S3's part count (`<hash>-<parts>` ETags); 1 for an object sent in one piece. */
  parts: number;
}

/** ETags compare without their quotes (S3 sends them quoted, some clients strip them). */
export const bareEtag = (etag: string): string => etag.replace(/"/g, '');

const partsOf = (etag: string): number => Number(/-(\d+)$/.exec(bareEtag(etag))?.[1] ?? 1);

/**
 * Checks every file's object (present, of the declared size: one listing of the dataset's
 * prefix — a request per 1000 files rather than a HEAD per file, which a busy S3 answers
 * slowly) and moves each file sent in one PUT from its upload key to its object key.
 *
 * The move is what keeps a verdict true: the upload URL stays valid for hours, and a PUT
 * to it after completion would otherwise replace the bytes that were validated and are
 * served. The copy is conditional on the ETag just listed (`x-amz-copy-source-if-match`),
 * and the copy's ETag is compared too, for stores that ignore the condition: bytes that
 * changed between the listing and the copy are refused, never settled unchecked. The
 * upload key is then deleted; a later PUT to it writes an object nothing reads, which the
 * prefix sweep removes.
 */
export async function settleObjects(
  storage: ObjectStorage,
  datasetId: string,
  files: FileRow[],
  skip: Set<string>,
  missingMessage: (file: FileRow) => string,
): Promise<{ problems: RpcFieldError[]; settled: SettledObject[] }> {
  const listed = new Map((await storage.list(datasetPrefix(datasetId))).map((o) => [o.key, o]));
  const problems: RpcFieldError[] = [];
  const found: { file: FileRow; object: ListedObject; move: boolean }[] = [];
  for (const file of files) {
    if (skip.has(file.filename)) continue;
    // A fresh upload wins over a copy an earlier, refused completion already made.
    const uploaded = file.upload_key !== file.object_key ? listed.get(file.upload_key) : undefined;
    const object = uploaded ?? listed.get(file.object_key);
    if (!object) problems.push({ path: file.filename, message: missingMessage(file) });
    else if (object.sizeBytes !== Number(file.size_bytes)) {
      problems.push({ path: file.filename, message: `has ${object.sizeBytes} bytes, but ${file.size_bytes} were declared` });
    } else found.push({ file, object, move: !!uploaded });
  }
  if (problems.length > 0) return { problems, settled: [] };
  const settled: SettledObject[] = [];
  for (const { file, object, move } of found) {
    let etag = bareEtag(object.etag);
    if (move) {
      const copied = await copyObjectIfMatch(storage, file.upload_key, file.object_key, object.etag).catch((error: unknown) => {
        if ((error as { name?: string }).name === 'PreconditionFailed') return '';
        throw error;
      });
      if (!copied || !(await unchangedSince(storage, file.upload_key, etag, copied))) {
        problems.push({ path: file.filename, message: 'changed while the upload was being completed; complete again' });
        continue;
      }
      // The kept object's own ETag: what the download compares with.
      etag = bareEtag(copied);
      await storage.deleteObject(file.upload_key);
    }
    settled.push({ fileId: file.id, etag, parts: partsOf(object.etag) });
  }
  return { problems, settled };
}

/**
 * Whether the copy was made of the bytes listed. Usually the copy has the listed ETag.
 * When it does not, either the store gives copies their own ETags (S3 with SSE-KMS) or
 * it ignored the copy's condition and copied newer bytes (the embedded S3): the source
 * still having the listed ETag tells the first from the second.
 */
async function unchangedSince(storage: ObjectStorage, source: string, listed: string, copied: string): Promise<boolean> {
  if (bareEtag(copied) === listed) return true;
  const head = await storage.head(source);
  return !!head && bareEtag(head.etag) === listed;
}
