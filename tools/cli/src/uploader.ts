import { createReadStream } from 'node:fs';
import type { CompleteUploadRequest, FileTarget, MultipartTarget } from '@flotilla/contracts';
import { ProtocolError, TransferError, UrlExpiredError, networkReason } from './errors.js';
import { retryAfterMs } from './http.js';
import { runPool, sleep } from './pool.js';
import type { FolderFile } from './scan.js';

export const DEFAULT_RETRIES = 3;
export const DEFAULT_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 30_000;
const READ_CHUNK_BYTES = 256 * 1024;

/** One PUT: a whole file, or one part of a multipart file. */
export interface UploadUnit {
  file: FolderFile;
  fileId: string;
  url: string;
  headers: Record<string, string>;
  /** First byte of the file this PUT sends, and how many. */
  start: number;
  length: number;
  /** Set for a part of a multipart upload. */
  partNumber?: number;
}

export interface UploadPlan {
  units: UploadUnit[];
  /** The fileIds of the multipart files, in the order of the targets. */
  multipartFileIds: string[];
}

export interface UploadProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface RetryNotice {
  filename: string;
  partNumber?: number;
  /** The attempt that failed (1 for the first try). */
  attempt: number;
  retries: number;
  delayMs: number;
  reason: string;
}

export interface UploadFilesOptions {
  /** PUTs in flight at once (default 4). */
  concurrency?: number;
  /** Retries of a failed PUT (default 3), after `retryDelayMs` doubling each time (default 500). */
  retries?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  onFileUploaded?: (file: FolderFile, progress: UploadProgress) => void;
  onRetry?: (notice: RetryNotice) => void;
  /** Hears each PUT the store accepted (a part with its ETag), as it happens: what a resumed upload need not send again. */
  onUnitUploaded?: (unit: UploadUnit, etag: string | undefined) => void;
  /** The targets cover only what is still missing (a resumed upload): files and parts may be left out. */
  partial?: boolean;
  /** Bytes already in the store before these PUTs (a resumed upload), for the progress. */
  bytesAlreadyDone?: number;
}

/** The parts of the multipart files, as `upload/complete` wants them. */
export type CompletedFiles = NonNullable<CompleteUploadRequest['files']>;

function isMultipart(target: FileTarget): target is MultipartTarget {
  return 'multipart' in target && target.multipart !== undefined;
}

/**
 * Pairs the files with the targets `upload/start` returned (by filename) and cuts the
 * multipart files into parts of `partSizeBytes`. Throws a ProtocolError when the targets
 * do not cover exactly the files, or the parts do not cover a file.
 */
export function planUploads(files: readonly FolderFile[], targets: readonly FileTarget[], partial = false): UploadPlan {
  const byName = new Map(files.map((file) => [file.filename, file]));
  const seen = new Set<string>();
  const units: UploadUnit[] = [];
  const multipartFileIds: string[] = [];
  for (const target of targets) {
    const file = byName.get(target.filename);
    if (!file) throw new ProtocolError(`upload/start returned a target for "${target.filename}", which was not declared.`);
    if (seen.has(target.filename)) throw new ProtocolError(`upload/start returned two targets for "${target.filename}".`);
    seen.add(target.filename);
    if (isMultipart(target)) {
      const { partSizeBytes, parts } = target.multipart;
      const expected = Math.max(1, Math.ceil(file.sizeBytes / partSizeBytes));
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      const covered = partial
        ? sorted.every((part, i) => Number.isInteger(part.partNumber) && part.partNumber >= 1 && part.partNumber <= expected && part.partNumber !== sorted[i - 1]?.partNumber)
        : sorted.length === expected && sorted.every((part, i) => part.partNumber === i + 1);
      if (!(partSizeBytes > 0) || !covered) {
        throw new ProtocolError(
          `upload/start returned ${parts.length} parts of ${partSizeBytes} bytes for "${file.filename}" (${file.sizeBytes} bytes); expected parts 1 to ${expected}.`,
        );
      }
      multipartFileIds.push(target.fileId);
      for (const part of sorted) {
        const start = (part.partNumber - 1) * partSizeBytes;
        const length = Math.min(partSizeBytes, file.sizeBytes - start);
        // Each part URL is signed for its length: a part cut otherwise would be refused by S3.
        if (part.sizeBytes !== length) {
          throw new ProtocolError(`upload/start signed part ${part.partNumber} of "${file.filename}" for ${part.sizeBytes} bytes; that part holds ${length}.`);
        }
        units.push({
          file,
          fileId: target.fileId,
          url: part.uploadUrl,
          headers: {},
          start,
          length,
          partNumber: part.partNumber,
        });
      }
    } else {
      const headers: Record<string, string> = { 'content-type': file.contentType };
      for (const [name, value] of Object.entries(target.headers ?? {})) headers[name.toLowerCase()] = value;
      units.push({ file, fileId: target.fileId, url: target.uploadUrl, headers, start: 0, length: file.sizeBytes });
    }
  }
  const missing = files.filter((file) => !seen.has(file.filename));
  if (missing.length > 0 && !partial) throw new ProtocolError(`upload/start returned no target for ${missing.map((f) => `"${f.filename}"`).join(', ')}.`);
  return { units, multipartFileIds };
}

/**
 * Uploads every file to its target: a few PUTs at once, each streamed from disk with its
 * exact Content-Length, a failed PUT retried with backoff. Returns the parts (with their
 * ETags) of the multipart files for `upload/complete`.
 */
export async function uploadFiles(files: readonly FolderFile[], targets: readonly FileTarget[], options: UploadFilesOptions = {}): Promise<CompletedFiles> {
  const { units, multipartFileIds } = planUploads(files, targets, options.partial);
  const etags = new Map<string, { partNumber: number; etag: string }[]>(multipartFileIds.map((id) => [id, []]));
  const unitsLeft = new Map<string, number>();
  for (const unit of units) unitsLeft.set(unit.fileId, (unitsLeft.get(unit.fileId) ?? 0) + 1);

  const progress: UploadProgress = {
    bytesDone: options.bytesAlreadyDone ?? 0,
    bytesTotal: files.reduce((sum, f) => sum + f.sizeBytes, 0),
    filesDone: files.length - unitsLeft.size,
    filesTotal: files.length,
  };
  const onBytes = (delta: number): void => {
    progress.bytesDone += delta;
    options.onProgress?.({ ...progress });
  };

  // The first PUT that fails for good stops the others.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;

  try {
    await runPool(units, options.concurrency ?? 4, async (unit) => {
      const etag = await putWithRetries(unit, { ...options, signal, onBytes }).catch((error: unknown) => {
        stop.abort(error);
        throw error;
      });
      if (unit.partNumber !== undefined) etags.get(unit.fileId)!.push({ partNumber: unit.partNumber, etag: etag! });
      options.onUnitUploaded?.(unit, etag);
      const left = unitsLeft.get(unit.fileId)! - 1;
      unitsLeft.set(unit.fileId, left);
      if (left === 0) {
        progress.filesDone += 1;
        options.onFileUploaded?.(unit.file, { ...progress });
      }
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }

  return multipartFileIds.map((fileId) => ({ fileId, parts: etags.get(fileId)!.sort((a, b) => a.partNumber - b.partNumber) }));
}

interface PutContext extends UploadFilesOptions {
  signal: AbortSignal;
  onBytes: (delta: number) => void;
}

/** Sends one unit, retrying what may pass on a second try; resolves to the ETag it was answered with. */
async function putWithRetries(unit: UploadUnit, context: PutContext): Promise<string | undefined> {
  const retries = context.retries ?? DEFAULT_RETRIES;
  const baseDelay = context.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const what = unit.partNumber === undefined ? unit.file.filename : `${unit.file.filename} part ${unit.partNumber}`;
  for (let attempt = 1; ; attempt++) {
    let sent = 0;
    const count = (delta: number): void => {
      sent += delta;
      context.onBytes(delta);
    };
    let failure: { retryable: boolean; reason: string; status?: number; retryAfterMs?: number };
    try {
      const response = await fetch(unit.url, {
        method: 'PUT',
        headers: { ...unit.headers, 'content-length': String(unit.length) },
        body: unit.length === 0 ? new Uint8Array(0) : readRange(unit.file.path, unit.start, unit.length, count),
        duplex: 'half',
        signal: context.signal,
      });
      if (response.ok) {
        await response.body?.cancel();
        const etag = response.headers.get('etag') ?? undefined;
        if (unit.partNumber !== undefined && !etag) throw new TransferError(`The storage answered the upload of ${what} without an ETag.`);
        return etag;
      }
      failure = {
        retryable: response.status === 408 || response.status === 429 || response.status >= 500,
        reason: `${response.status} ${await storageError(response)}`.trim(),
        status: response.status,
        ...optional('retryAfterMs', retryAfterMs(response.headers.get('retry-after'))),
      };
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      if (error instanceof TransferError) throw error;
      failure = { retryable: true, reason: networkReason(error) };
    }
    // What this attempt sent does not count: it will be sent again, or not at all.
    if (sent > 0) context.onBytes(-sent);
    // A URL signed for a while that has passed: new URLs, not another try, get it through.
    if (failure.status === 403 && /expired/i.test(failure.reason)) throw new UrlExpiredError(`The upload URL of ${what} expired: ${failure.reason}`, failure.status);
    if (!failure.retryable || attempt > retries) {
      const tries = attempt === 1 ? '' : ` (after ${attempt} tries)`;
      throw new TransferError(`Uploading ${what} failed${tries}: ${failure.reason}`, failure.status);
    }
    const backoff = baseDelay * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
    const delayMs = Math.round(Math.min(MAX_RETRY_DELAY_MS, Math.max(backoff, failure.retryAfterMs ?? 0)));
    context.onRetry?.({ filename: unit.file.filename, ...optional('partNumber', unit.partNumber), attempt, retries, delayMs, reason: failure.reason });
    await sleep(delayMs, context.signal);
  }
}

/** `length` bytes of the file from `start`, read as they are sent. */
async function* readRange(path: string, start: number, length: number, onChunk: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { start, end: start + length - 1, highWaterMark: READ_CHUNK_BYTES });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onChunk(chunk.length);
    yield chunk;
  }
}

/** The code and message of an S3-style XML error body, or a short piece of whatever it is. */
async function storageError(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  if (code || message) return [code, message].filter(Boolean).join(': ');
  return text.replace(/\s+/g, ' ').trim().slice(0, 200) || response.statusText;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
