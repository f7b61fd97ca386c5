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
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ENV } from '@flotilla/config';
import { Readable } from 'node:stream';
import type { StorageEnv } from './storage.env.js';

/** S3 could not be reached, or answered with a server error: the caller's 503. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
}

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

/** Builds an S3 client for one endpoint; presigned URLs carry no checksum the client cannot know. */
export function createS3Client(env: StorageEnv, endpoint: string): S3Client {
  return new S3Client({
    region: env.S3_REGION,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

/**
 * The service's bucket. Two clients: `internal` for the service's own calls, `public`
 * only for signing the URLs clients use (the signature covers the host, so a URL
 * signed for the internal name fails when a client reaches S3 under another one).
 */
@Injectable()
export class ObjectStorage {
  private readonly logger = new Logger(ObjectStorage.name);
  readonly bucket: string;
  readonly internal: S3Client;
  readonly public: S3Client;

  constructor(@Inject(ENV) env: StorageEnv) {
    this.bucket = env.S3_BUCKET;
    this.internal = createS3Client(env, env.S3_ENDPOINT);
    this.public = env.S3_PUBLIC_ENDPOINT && env.S3_PUBLIC_ENDPOINT !== env.S3_ENDPOINT ? createS3Client(env, env.S3_PUBLIC_ENDPOINT) : this.internal;
  }

  /**
   * A PUT URL for exactly one key, method PUT, `contentLength` bytes of `contentType`,
   * valid `expiresInSeconds`. Length and type are signed headers: S3 refuses a body of
   * another length or type.
   */
  async presignPut(key: string, options: { contentLength: number; contentType: string; expiresInSeconds: number }): Promise<PresignedPut> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: options.contentLength, ContentType: options.contentType });
    const url = await getSignedUrl(this.public, command, {
      expiresIn: options.expiresInSeconds,
      signableHeaders: new Set(['content-length', 'content-type']),
      // Kept as headers (not query parameters) so they stay bound to the request.
      unhoistableHeaders: new Set(['content-type']),
    });
    return { url, headers: { 'content-type': options.contentType }, expiresAt: expiry(options.expiresInSeconds) };
  }

  /** Starts a multipart upload; returns its upload id. */
  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const out = await this.call(() => this.internal.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType })));
    if (!out.UploadId) throw new Error(`S3 returned no upload id for ${key}`);
    return out.UploadId;
  }

  /** A PUT URL for one part of a multipart upload (the client reads the part's ETag from the response). */
  async presignUploadPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.public, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
      expiresIn: expiresInSeconds,
    });
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const command = new CompleteMultipartUploadCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    });
    await this.call(() => this.internal.send(command));
  }

  /** Discards the parts of an unfinished multipart upload. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.call(() => this.internal.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })));
  }

  /** The object's size, ETag and type, or `null` when there is no such object. */
  async head(key: string): Promise<ObjectHead | null> {
    try {
      const out = await this.call(() => this.internal.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { sizeBytes: out.ContentLength ?? 0, etag: out.ETag ?? '', contentType: out.ContentType };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The object's bytes as a stream, never buffered whole; `signal` aborts the download. */
  async getStream(key: string, signal?: AbortSignal): Promise<Readable> {
    const out = await this.call(() => this.internal.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), signal ? { abortSignal: signal } : undefined));
    const body = out.Body;
    if (body instanceof Readable) return body;
    throw new Error(`S3 returned no stream for ${key}`);
  }

  async putObject(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.call(() => this.internal.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })));
  }

  async deleteObject(key: string): Promise<void> {
    await this.call(() => this.internal.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** Deletes every object whose key starts with `prefix`; returns how many were deleted. */
  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix) throw new RangeError('deletePrefix needs a non-empty prefix');
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.call(() => this.internal.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 })));
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
      if (keys.length > 0) {
        await this.call(() => this.internal.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })));
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  /** A GET URL for one key; with `downloadFilename`, browsers save it under that name. */
  async presignGet(key: string, options: { expiresInSeconds: number; downloadFilename?: string }): Promise<{ url: string; expiresAt: string }> {
    const disposition = options.downloadFilename ? contentDisposition(options.downloadFilename) : undefined;
    const url = await getSignedUrl(this.public, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }), {
      expiresIn: options.expiresInSeconds,
    });
    return { url, expiresAt: expiry(options.expiresInSeconds) };
  }

  /** Creates the bucket unless it exists (another instance creating it at the same time is fine). */
  async ensureBucket(): Promise<void> {
    try {
      await this.call(() => this.internal.send(new HeadBucketCommand({ Bucket: this.bucket })));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.call(() => this.internal.send(new CreateBucketCommand({ Bucket: this.bucket })));
      this.logger.log(`bucket ${this.bucket} created`);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
  }

  /** Readiness: the bucket answers. */
  async check(): Promise<void> {
    await this.call(() => this.internal.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Runs an S3 call; an unreachable S3 or a 5xx becomes {@link StorageUnavailableError}. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isUnavailable(error)) {
        throw new StorageUnavailableError(`object storage is not reachable: ${(error as Error).message || (error as Error).name}`, { cause: error });
      }
      throw error;
    }
  }
}

function expiry(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof S3ServiceException) return (error.$metadata?.httpStatusCode ?? 0) >= 500;
  const e = error as { name?: string; code?: string };
  if (e?.name === 'AbortError') return false;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(e?.code ?? '') || e?.name === 'TimeoutError';
}

/** RFC 6266: an ASCII fallback and the UTF-8 name, so any filename downloads safely. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
