import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { ENV } from '@flotilla/config';
import { Readable } from 'node:stream';
import { contentDisposition } from './content-disposition.js';
import { presign } from './presign.js';
import { createS3Client } from './s3-client.js';
import { isNotFound, toStorageError } from './storage-errors.js';
import type { StorageEnv } from './storage.env.js';

export interface PresignedPut {
  url: string;
  /** Headers the client must send with the PUT; they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ObjectHead {
  sizeBytes: number;
  etag: string;
  contentType: string | undefined;
}

/** An object as a listing shows it. */
export interface ListedObject {
  key: string;
  sizeBytes: number;
  etag: string;
}

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

/**
 * The service's bucket. Two clients: `internal` for the service's own calls, `public`
 * only for signing the URLs clients use (the signature covers the host, so a URL
 * signed for the internal name fails when a client reaches S3 under another one).
 *
 * Calls that reach S3 throw {@link StorageUnavailableError} when it cannot be reached,
 * times out or answers 5xx; any other failure is the SDK's own error. Signing URLs makes
 * no request.
 */
@Injectable()
export class ObjectStorage {
  private readonly logger = new Logger(ObjectStorage.name);
  readonly bucket: string;
  readonly region: string;
  /** What the services reach ('' = AWS), for messages. */
  readonly endpoint: string;
  readonly internal: S3Client;
  readonly public: S3Client;

  constructor(@Inject(ENV) env: StorageEnv) {
    this.bucket = env.S3_BUCKET;
    this.region = env.S3_REGION;
    this.endpoint = env.S3_ENDPOINT;
    this.internal = createS3Client(env, env.S3_ENDPOINT);
    this.public =
      env.S3_PUBLIC_ENDPOINT && env.S3_PUBLIC_ENDPOINT !== env.S3_ENDPOINT ? createS3Client(env, env.S3_PUBLIC_ENDPOINT) : this.internal;
  }

  /**
   * Signs (no request) a URL for exactly one PUT of `key`: `contentLength` bytes of
   * `contentType`, valid `expiresInSeconds`. Length and type are signed headers, so S3
   * refuses a body of another length or a request with another type; the client must send
   * the returned `headers` (its HTTP library sets Content-Length from the body).
   */
  async presignPut(key: string, options: { contentLength: number; contentType: string; expiresInSeconds: number }): Promise<PresignedPut> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: options.contentLength, ContentType: options.contentType });
    const url = await presign(this.public, command, {
      expiresIn: options.expiresInSeconds,
      // The presigner leaves content-type unsigned by default; both must bind the upload.
      signableHeaders: new Set(['content-length', 'content-type']),
      // Kept as headers (not query parameters) so they stay bound to the request.
      unhoistableHeaders: new Set(['content-type']),
    });
    return { url, headers: { 'content-type': options.contentType }, expiresAt: expiry(options.expiresInSeconds) };
  }

  /**
   * Starts a multipart upload of `key` (S3 keeps its parts, and bills for them, until it
   * is completed or aborted); returns its upload id.
   */
  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const out = await this.call(`create multipart upload of ${key}`, () =>
      this.internal.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType })),
    );
    if (!out.UploadId) throw new Error(`S3 returned no upload id for ${key}`);
    return out.UploadId;
  }

  /**
   * Signs (no request) a URL for one PUT of part `partNumber` (1-10,000) of the upload,
   * exactly `contentLength` bytes long: the key, upload id and part number are in the
   * signed query, the length is a signed header (S3 wants at least 5 MiB for every part
   * but the last). The client reads the part's ETag from the response, and needs CORS to
   * expose `ETag` in a browser.
   */
  async presignUploadPart(
    key: string,
    part: { uploadId: string; partNumber: number; contentLength: number; expiresInSeconds: number },
  ): Promise<string> {
    const command = new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: part.uploadId, PartNumber: part.partNumber, ContentLength: part.contentLength });
    return presign(this.public, command, { expiresIn: part.expiresInSeconds, signableHeaders: new Set(['content-length']) });
  }

  /**
   * Assembles the object from the listed parts (ascending part numbers, the ETags the part
   * uploads returned) and ends the upload. Fails when a part is missing or an ETag does not
   * match (S3's `InvalidPart`), or the upload is unknown (`NoSuchUpload`, also after it
   * was completed).
   */
  async completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const command = new CompleteMultipartUploadCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    });
    await this.call(`complete multipart upload of ${key}`, () => this.internal.send(command));
  }

  /**
   * Deletes the uploaded parts of an unfinished multipart upload and ends it. An upload S3
   * no longer knows (aborted or completed before) counts as done.
   */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.call(`abort multipart upload of ${key}`, () =>
        this.internal.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
    }
  }

  /** The object's size, ETag and type, or `null` when there is no such object. */
  async head(key: string): Promise<ObjectHead | null> {
    try {
      const out = await this.call(`head ${key}`, () => this.internal.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { sizeBytes: out.ContentLength ?? 0, etag: out.ETag ?? '', contentType: out.ContentType };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Every object whose key starts with `prefix`, with its size and ETag: one ListObjectsV2
   * request per 1000 keys, where a HEAD per object would be one request each. What it
   * shows is as current as a HEAD (S3 lists strongly consistently); unfinished multipart
   * uploads are not objects and are not in it.
   */
  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(`list ${prefix}`, () =>
        this.internal.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) objects.push({ key: o.Key, sizeBytes: o.Size ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /**
   * The object's bytes as a stream, read from S3 as it is consumed (never buffered whole).
   * The caller must consume or destroy it, or the connection stays taken. `signal` aborts
   * the download. Failures after the stream is returned are emitted on it unwrapped (see
   * `isStorageUnavailable`); a stream left unread for a minute fails with a `TimeoutError`.
   */
  async getStream(key: string, signal?: AbortSignal): Promise<Readable> {
    const out = await this.call(`get ${key}`, () =>
      this.internal.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), signal ? { abortSignal: signal } : undefined),
    );
    const body = out.Body;
    if (body instanceof Readable) return body;
    throw new Error(`S3 returned no stream for ${key}`);
  }

  /** Writes a small object in one request, replacing any object under `key`. */
  async putObject(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.call(`put ${key}`, () => this.internal.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })));
  }

  /** Deletes the object; deleting an object that does not exist succeeds. */
  async deleteObject(key: string): Promise<void> {
    await this.call(`delete ${key}`, () => this.internal.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /**
   * Deletes every object whose key starts with `prefix` (end it with `/` to mean a
   * folder: `a/1` also matches `a/10`), listing page by page and deleting up to 1000 keys
   * per request; returns how many were deleted. Unfinished multipart uploads under the
   * prefix are not objects and stay.
   */
  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix) throw new RangeError('deletePrefix needs a non-empty prefix');
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.call(`list ${prefix}`, () =>
        this.internal.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: DELETE_BATCH })),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const out = await this.call(`delete ${prefix}`, () =>
          this.internal.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
        );
        // DeleteObjects answers 200 even when some keys failed; they are listed in Errors.
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(`could not delete ${failed.length} object(s) under ${prefix}: ${failed[0]?.Key} (${failed[0]?.Code} ${failed[0]?.Message})`);
        }
        deleted += batch.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /**
   * Signs (no request) a GET URL for one key, valid `expiresInSeconds`. With
   * `downloadFilename`, S3 answers with `Content-Disposition: attachment` and that name
   * (RFC 6266, safe for any characters), so browsers save the file instead of showing it.
   */
  async presignGet(key: string, options: { expiresInSeconds: number; downloadFilename?: string }): Promise<{ url: string; expiresAt: string }> {
    const disposition = options.downloadFilename ? contentDisposition(options.downloadFilename) : undefined;
    const url = await presign(this.public, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }), {
      expiresIn: options.expiresInSeconds,
    });
    return { url, expiresAt: expiry(options.expiresInSeconds) };
  }

  /**
   * Creates the bucket unless it exists; returns whether this call created it. Another
   * instance creating it at the same time is fine; a name taken by another account is an
   * error.
   */
  async ensureBucket(): Promise<boolean> {
    if (await this.bucketExists()) return false;
    // Outside us-east-1, AWS wants the region restated, or answers IllegalLocationConstraintException.
    const configuration = this.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } };
    try {
      await this.call(`create bucket ${this.bucket}`, () => this.internal.send(new CreateBucketCommand({ Bucket: this.bucket, ...configuration })));
      this.logger.log(`bucket ${this.bucket} created`);
      return true;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou') return false;
      // AWS: the name belongs to someone else. MinIO and the embedded S3: someone created it just now.
      if (name === 'BucketAlreadyExists' && (await this.bucketExists())) return false;
      throw error;
    }
  }

  /** Readiness: the bucket answers a HEAD. */
  async check(): Promise<void> {
    await this.call(`head bucket ${this.bucket}`, () => this.internal.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  private async bucketExists(): Promise<boolean> {
    try {
      await this.check();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Runs an S3 call; an unreachable S3, a timeout or a 5xx becomes {@link StorageUnavailableError}. */
  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toStorageError(error, what);
    }
  }
}

function expiry(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}
