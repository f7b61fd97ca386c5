import {
  CopyObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { ObjectStorage, PresignedPut } from './object-storage.js';
import { presign } from './presign.js';
import { toStorageError } from './storage-errors.js';

/** A multipart upload the store holds parts of: started, neither completed nor aborted. */
export interface OpenMultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date | undefined;
}

/**
 * Like `presignPut`, and also binds the bytes: `x-amz-checksum-sha256` (the declared
 * SHA-256, base64 as S3 wants it) is a signed header the client must send, and S3 and
 * MinIO compute the body's SHA-256 and refuse the PUT (400 BadDigest) when it differs.
 * So the URL can write those bytes and no others, however long it stays valid.
 */
export async function presignChecksummedPut(
  storage: ObjectStorage,
  key: string,
  options: { contentLength: number; contentType: string; sha256Hex: string; expiresInSeconds: number },
): Promise<PresignedPut> {
  const checksum = Buffer.from(options.sha256Hex, 'hex').toString('base64');
  const command = new PutObjectCommand({
    Bucket: storage.bucket,
    Key: key,
    ContentLength: options.contentLength,
    ContentType: options.contentType,
    ChecksumSHA256: checksum,
  });
  const url = await presign(storage.public, command, {
    expiresIn: options.expiresInSeconds,
    signableHeaders: new Set(['content-length', 'content-type', 'x-amz-checksum-sha256']),
    // Headers, not query parameters: S3 checks the checksum header against the body.
    unhoistableHeaders: new Set(['content-type', 'x-amz-checksum-sha256']),
  });
  return {
    url,
    headers: { 'content-type': options.contentType, 'x-amz-checksum-sha256': checksum },
    expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000).toISOString(),
  };
}

/**
 * Server-side copy of `from` to `to`, only while `from` still has ETag `etag`
 * (`x-amz-copy-source-if-match`: S3 and MinIO answer 412 otherwise; the embedded S3
 * ignores the condition, so callers compare the copy's ETag too). Returns the copy's ETag.
 * One request up to 5 GiB, S3's limit for CopyObject.
 */
export async function copyObjectIfMatch(storage: ObjectStorage, from: string, to: string, etag: string): Promise<string> {
  try {
    const out = await storage.internal.send(
      new CopyObjectCommand({
        Bucket: storage.bucket,
        Key: to,
        CopySource: `${storage.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
        CopySourceIfMatch: etag,
      }),
    );
    return out.CopyObjectResult?.ETag ?? '';
  } catch (error) {
    throw toStorageError(error, `copy ${from} to ${to}`);
  }
}

/** The multipart uploads open under `prefix` (ListMultipartUploads, page by page). */
export async function listMultipartUploads(storage: ObjectStorage, prefix: string): Promise<OpenMultipartUpload[]> {
  const uploads: OpenMultipartUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await storage.internal.send(
        new ListMultipartUploadsCommand({ Bucket: storage.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
    } catch (error) {
      throw toStorageError(error, `list multipart uploads under ${prefix}`);
    }
    for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
    if (!page.IsTruncated) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/**
 * Asks the store to abort, on its own, every multipart upload still open `days` after it
 * started (lifecycle rule `AbortIncompleteMultipartUpload` on the whole bucket): parts a
 * crashed client and a missed sweep would leave are then not kept forever. Replaces the
 * bucket's lifecycle configuration. Returns false when the store has no lifecycle
 * support (`NotImplemented`, as the embedded S3 answers); other failures are thrown.
 */
export async function putAbortIncompleteMultipartRule(storage: ObjectStorage, days: number): Promise<boolean> {
  try {
    await storage.internal.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: storage.bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'abort-incomplete-multipart-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: days } }],
        },
      }),
    );
    return true;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NotImplemented' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 501) return false;
    throw toStorageError(error, `put lifecycle rule on ${storage.bucket}`);
  }
}
