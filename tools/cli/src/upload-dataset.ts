import { basename, resolve } from 'node:path';
import type { DatasetProfile, StartUploadRequest, TeamsEdition, ValidationStatus } from '@flotilla/contracts';
import type { Credentials } from './args.js';
import { DEFAULT_API, DEFAULT_CONCURRENCY } from './args.js';
import { ProtocolError } from './errors.js';
import { ApiClient } from './http.js';
import type { Reporter } from './reporter.js';
import { hashFiles, listFolder } from './scan.js';
import { uploadFiles, type RetryNotice, type UploadProgress } from './uploader.js';
import { waitForVerdict } from './waiter.js';

export interface UploadDatasetOptions {
  /** The folder whose files (not subfolders, not dotfiles) make the dataset. */
  folder: string;
  profile: DatasetProfile;
  /** Dataset name; the folder's name when left out. */
  name?: string;
  description?: string;
  /** teams-json only. */
  edition?: TeamsEdition;
  /** API origin (default http://localhost:8080); `/api/v1` is added. */
  api?: string;
  credentials: Credentials;
  /** Wait for the verdict (default true). When false, the status right after completing is returned. */
  wait?: boolean;
  /** Files or parts uploaded at once (default 4). */
  concurrency?: number;
  /** Retries of a failed PUT (default 3) and the first backoff (default 500 ms, doubling). */
  retries?: number;
  retryDelayMs?: number;
  /** Delay between status polls when the API sends no Retry-After (default 2 s). */
  pollDelayMs?: number;
  signal?: AbortSignal;
}

/**
 * Uploads a folder as a dataset and waits for its validation: lists and hashes the files,
 * signs in, `POST /upload/start`, PUTs the files (parts for the large ones) to their
 * presigned URLs, `POST /upload/complete`, then polls the validation status until it is
 * passed, failed or error. Resolves to the last status; rejects with a CliError
 * (InputError, ApiError, NetworkError, TransferError, ProtocolError) when it cannot go on.
 */
export async function uploadDataset(options: UploadDatasetOptions, reporter: Reporter = {}): Promise<ValidationStatus> {
  try {
    const signal = options.signal;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;

    const listing = await listFolder(options.folder, options.profile);
    const bytesTotal = listing.files.reduce((sum, f) => sum + f.sizeBytes, 0);
    reporter.listed?.({ ...listing, bytesTotal });

    let hashedBytes = 0;
    const files = await hashFiles(listing.files, {
      concurrency,
      onBytes: (bytes) => {
        hashedBytes += bytes;
        reporter.hashProgress?.(hashedBytes, bytesTotal);
      },
    });
    reporter.hashed?.(files);
    signal?.throwIfAborted();

    const client = new ApiClient(options.api ?? DEFAULT_API, {
      ...('token' in options.credentials ? { token: options.credentials.token } : {}),
      ...(signal ? { signal } : {}),
    });
    if ('email' in options.credentials) await client.login(options.credentials.email, options.credentials.password);

    const request: StartUploadRequest = {
      datasetName: options.name ?? basename(resolve(options.folder)),
      ...(options.description !== undefined ? { description: options.description } : {}),
      profile: options.profile,
      ...(options.edition !== undefined ? { options: { edition: options.edition } } : {}),
      files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes, sha256: f.sha256 })),
    };
    const started = await client.startUpload(request);
    reporter.uploadStarted?.({
      datasetId: started.datasetId,
      filesTotal: files.length,
      bytesTotal,
      multipartFiles: started.files.filter((t) => 'multipart' in t).length,
    });

    const multipart = await uploadFiles(files, started.files, {
      concurrency,
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(signal ? { signal } : {}),
      onProgress: (p: UploadProgress) => reporter.uploadProgress?.(p),
      onFileUploaded: (file, p: UploadProgress) => reporter.fileUploaded?.(file.filename, p),
      onRetry: (n: RetryNotice) => reporter.retry?.(n),
    });

    const completed = await client.completeUpload({ datasetId: started.datasetId, ...(multipart.length > 0 ? { files: multipart } : {}) });
    reporter.completed?.(completed);

    if (options.wait === false) {
      const poll = await client.validationStatus(started.datasetId);
      if (!poll.changed) throw new ProtocolError('GET /validation/{datasetId}/status answered 304 to a request without If-None-Match.');
      reporter.validationStatus?.(poll.status);
      return poll.status;
    }
    return await waitForVerdict(client, started.datasetId, {
      ...(signal ? { signal } : {}),
      ...(options.pollDelayMs !== undefined ? { defaultDelayMs: options.pollDelayMs } : {}),
      onStatus: (status) => reporter.validationStatus?.(status),
    });
  } finally {
    reporter.close?.();
  }
}
