import { basename, resolve } from 'node:path';
import type { DatasetProfile, StartUploadRequest, TeamsEdition, ValidationStatus } from '@flotilla/contracts';
import type { Credentials } from './args.js';
import { DEFAULT_API, DEFAULT_CONCURRENCY } from './args.js';
import { ApiError, ProtocolError } from './errors.js';
import { ApiClient } from './http.js';
import type { Reporter } from './reporter.js';
import { withApiRetries, type ApiRetryOptions } from './retry.js';
import { hashFiles, listFolder, type LocalFile } from './scan.js';
import { freshPosition, resumedPosition, sendUpload, type UploadPosition } from './send-upload.js';
import { UploadStateFile, type UploadState } from './state.js';
import type { RetryNotice, UploadProgress } from './uploader.js';
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
  /** Go on with this pending dataset instead of starting a new one (its files must be this folder's). */
  resume?: string;
  /**
   * Where the upload's progress is saved as it goes (`stateDirectory()`): a later run on
   * the same folder and API, with the same files, goes on where it was interrupted.
   * Without it nothing is saved.
   */
  stateDirectory?: string;
  /** Backoff of the API calls (sign-in, start, resume, complete) on network errors and 5xx. */
  apiRetry?: ApiRetryOptions;
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
    if ('email' in options.credentials) {
      const { email, password } = options.credentials;
      await withApiRetries('POST /auth/login', () => client.login(email, password), { ...(signal ? { signal } : {}), ...options.apiRetry });
    }

    const api = options.api ?? DEFAULT_API;
    const stateFile = options.stateDirectory ? new UploadStateFile(options.stateDirectory, api, options.folder) : undefined;
    const saved = stateFile?.load(files);
    const retry: ApiRetryOptions = { ...(signal ? { signal } : {}), ...options.apiRetry };
    let datasetId = options.resume ?? saved?.datasetId;
    let position: UploadPosition | 'completed' | undefined;
    if (datasetId !== undefined) position = await resumeFrom(client, datasetId, files, retry, options.resume === undefined);
    if (position === undefined) {
      const request: StartUploadRequest = {
        datasetName: options.name ?? basename(resolve(options.folder)),
        ...(options.description !== undefined ? { description: options.description } : {}),
        profile: options.profile,
        ...(options.edition !== undefined ? { options: { edition: options.edition } } : {}),
        files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes, sha256: f.sha256 })),
      };
      const started = await withApiRetries('POST /upload/start', () => client.startUpload(request), retry);
      datasetId = started.datasetId;
      position = freshPosition(started.files);
    } else reporter.resumed?.(datasetId!);
    const id = datasetId!;
    const state: UploadState = {
      api,
      folder: resolve(options.folder),
      datasetId: id,
      files: files.map((f) => ({ filename: f.filename, sizeBytes: f.sizeBytes, sha256: f.sha256 })),
      parts: saved?.datasetId === id ? saved.parts : {},
    };
    stateFile?.save(state);

    let multipart: { fileId: string; parts: { partNumber: number; etag: string }[] }[] = [];
    if (position !== 'completed') {
      reporter.uploadStarted?.({
        datasetId: id,
        filesTotal: files.length,
        bytesTotal,
        multipartFiles: position.parts.size,
      });
      multipart = await sendUpload(client, id, files, position, {
        concurrency,
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(signal ? { signal } : {}),
        retry,
        onProgress: (p: UploadProgress) => reporter.uploadProgress?.(p),
        onFileUploaded: (file, p: UploadProgress) => reporter.fileUploaded?.(file.filename, p),
        onRetry: (n: RetryNotice) => reporter.retry?.(n),
        onResigned: () => reporter.resigned?.(),
        onPartUploaded: (fileId, partNumber, etag) => {
          (state.parts[fileId] ??= {})[String(partNumber)] = etag;
          stateFile?.save(state);
        },
      });
    }

    // Completing twice answers the same job, so a lost answer is simply asked again.
    const completed = await withApiRetries(
      'POST /upload/complete',
      () => client.completeUpload({ datasetId: id, ...(multipart.length > 0 ? { files: multipart } : {}) }),
      retry,
    );
    stateFile?.remove();
    reporter.completed?.(completed);
    const started = { datasetId: id };

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

/**
 * Where a started upload stands, from the API: its position, `'completed'` when it was
 * completed before (the completion's answer was lost), or undefined when a saved state
 * names a dataset that cannot go on (gone, or swept after its URLs expired): then a new
 * upload starts. An explicit `--resume` that cannot go on is an error.
 */
async function resumeFrom(
  client: ApiClient,
  datasetId: string,
  files: readonly LocalFile[],
  retry: ApiRetryOptions,
  fromState: boolean,
): Promise<UploadPosition | 'completed' | undefined> {
  try {
    const resumed = await withApiRetries('GET /datasets/{id}/upload', () => client.resumeUpload(datasetId), retry);
    const names = new Set(files.map((f) => f.filename));
    const foreign = resumed.files.filter((f) => !names.has(f.filename)).map((f) => f.filename);
    if (foreign.length > 0 || resumed.files.length !== files.length) {
      throw new ProtocolError(`Dataset ${datasetId} was started with other files than this folder's${foreign.length ? ` (${foreign.join(', ')})` : ''}.`);
    }
    return resumedPosition(resumed, files);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return 'completed';
    if (fromState && error instanceof ApiError && (error.status === 404 || error.status === 422)) return undefined;
    throw error;
  }
}
