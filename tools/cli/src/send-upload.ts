import type { FileTarget, ResumeUploadResponse } from '@flotilla/contracts';
import { UrlExpiredError } from './errors.js';
import type { ApiClient } from './http.js';
import { withApiRetries, type ApiRetryOptions } from './retry.js';
import type { LocalFile } from './scan.js';
import { uploadFiles, type CompletedFiles, type UploadFilesOptions, type UploadUnit } from './uploader.js';

/** Re-signings in a row that may each end in expired URLs before the upload gives up. */
const MAX_RESIGNS = 5;

export interface SendOptions extends Omit<UploadFilesOptions, 'partial' | 'bytesAlreadyDone' | 'onUnitUploaded'> {
  retry?: ApiRetryOptions;
  /** Hears each part the store took (multipart files), to record it in the state file. */
  onPartUploaded?: (fileId: string, partNumber: number, etag: string) => void;
  /** Hears each re-signing after expired URLs. */
  onResigned?: () => void;
}

/** Where an upload stands: the targets still to send, and what the store already holds. */
export interface UploadPosition {
  targets: FileTarget[];
  /** fileId → partNumber → ETag, for every multipart file (parts the store holds). */
  parts: Map<string, Map<number, string>>;
  /** Bytes already in the store. */
  bytesDone: number;
  /** Files with nothing left to send. */
  filesDone: number;
}

/** The position right after `upload/start`: everything to send. */
export function freshPosition(targets: FileTarget[]): UploadPosition {
  return { targets, parts: new Map(targets.filter((t) => 'multipart' in t).map((t) => [t.fileId, new Map()])), bytesDone: 0, filesDone: 0 };
}

/** The position `GET /datasets/{id}/upload` reports: the store's own account of each file. */
export function resumedPosition(resumed: ResumeUploadResponse, files: readonly LocalFile[]): UploadPosition {
  const parts = new Map<string, Map<number, string>>();
  let bytesDone = 0;
  let filesDone = 0;
  for (const state of resumed.files) {
    const size = files.find((f) => f.filename === state.filename)?.sizeBytes ?? 0;
    if (state.uploaded) {
      filesDone += 1;
      bytesDone += size;
    }
    if (!state.parts) continue;
    const held = new Map<number, string>();
    const target = resumed.targets.find((t) => t.fileId === state.fileId);
    const partSize = target && 'multipart' in target ? target.multipart.partSizeBytes : 0;
    for (const p of state.parts) {
      if (!p.uploaded || !p.etag) continue;
      held.set(p.partNumber, p.etag);
      if (!state.uploaded && partSize > 0) bytesDone += Math.max(0, Math.min(partSize, size - (p.partNumber - 1) * partSize));
    }
    parts.set(state.fileId, held);
  }
  return { targets: resumed.targets, parts, bytesDone, filesDone };
}

/**
 * PUTs what `position` says is missing; when the store refuses a URL as expired, asks the
 * API where the upload stands (`GET /datasets/{id}/upload`, which re-signs only what is
 * missing and pushes the upload's expiry forward) and goes on. Resolves to every
 * multipart file's parts for `upload/complete`.
 */
export async function sendUpload(client: ApiClient, datasetId: string, files: readonly LocalFile[], position: UploadPosition, options: SendOptions = {}): Promise<CompletedFiles> {
  let current = position;
  for (let resigns = 0; ; resigns++) {
    try {
      await uploadFiles(files, current.targets, {
        ...options,
        partial: true,
        bytesAlreadyDone: current.bytesDone,
        onUnitUploaded: (unit: UploadUnit, etag) => {
          if (unit.partNumber === undefined || !etag) return;
          current.parts.get(unit.fileId)?.set(unit.partNumber, etag);
          options.onPartUploaded?.(unit.fileId, unit.partNumber, etag);
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof UrlExpiredError) || resigns >= MAX_RESIGNS) throw error;
    }
    options.onResigned?.();
    const resumed = await withApiRetries('GET /datasets/{id}/upload', () => client.resumeUpload(datasetId), options.retry);
    current = resumedPosition(resumed, files);
  }
  return [...current.parts].map(([fileId, parts]) => ({
    fileId,
    parts: [...parts].map(([partNumber, etag]) => ({ partNumber, etag })).sort((a, b) => a.partNumber - b.partNumber),
  }));
}
