import { createHash } from 'node:crypto';
import { waitFor } from '@flotilla/testing';
import type { Schemas } from '@flotilla/api-client';
import type { ApiClient } from './platform.js';
import { expectBody } from './typed-api.js';

export interface LocalFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface ValidationStatusBody {
  datasetId: string;
  jobId: string;
  status: 'queued' | 'running' | 'passed' | 'failed' | 'error';
  progress: { filesTotal: number; filesChecked: number; bytesTotal: number; bytesChecked: number; percent: number };
  summary: { errors: number; warnings: number };
  issues: { severity: string; code: string; file?: string; path?: string; message: string }[];
  reportUrl?: string;
}

export interface StartBody {
  datasetId: string;
  expiresIn: number;
  files: {
    fileId: string;
    filename: string;
    method?: 'PUT';
    uploadUrl?: string;
    headers?: Record<string, string>;
    multipart?: { uploadId: string; partSizeBytes: number; parts: { partNumber: number; sizeBytes: number; uploadUrl: string }[] };
  }[];
}

export const sha256 = (content: Buffer): string => createHash('sha256').update(content).digest('hex');

/** `POST /upload/start` for local files, as a client would describe them. */
export async function startUpload(
  api: ApiClient,
  token: string,
  name: string,
  profile: Schemas['StartUploadDto']['profile'],
  files: LocalFile[],
  options?: Schemas['UploadOptionsDto'],
): Promise<StartBody> {
  const body: Schemas['StartUploadDto'] = {
    datasetName: name,
    profile,
    ...(options ? { options } : {}),
    files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length })),
  };
  return expectBody<StartBody>(api.as(token).POST('/api/v1/upload/start', { body }), 201);
}

/** PUTs each file to its presigned URL with plain fetch; multipart files part by part. Returns the parts for complete. */
export async function putFiles(start: StartBody, files: LocalFile[]): Promise<{ fileId: string; parts: { partNumber: number; etag: string }[] }[]> {
  const completed: { fileId: string; parts: { partNumber: number; etag: string }[] }[] = [];
  for (const target of start.files) {
    const file = files.find((f) => f.filename === target.filename)!;
    if (target.multipart) {
      const parts: { partNumber: number; etag: string }[] = [];
      for (const part of target.multipart.parts) {
        const from = (part.partNumber - 1) * target.multipart.partSizeBytes;
        const res = await fetch(part.uploadUrl, { method: 'PUT', body: file.content.subarray(from, from + part.sizeBytes) });
        if (res.status !== 200) throw new Error(`part ${part.partNumber} of ${file.filename}: ${res.status} ${await res.text()}`);
        parts.push({ partNumber: part.partNumber, etag: res.headers.get('etag')! });
      }
      completed.push({ fileId: target.fileId, parts });
    } else {
      const res = await fetch(target.uploadUrl!, { method: 'PUT', headers: target.headers, body: file.content });
      if (res.status !== 200) throw new Error(`PUT ${file.filename}: ${res.status} ${await res.text()}`);
    }
  }
  return completed;
}

/** Polls the status, as a client does, until the job is finished. */
export async function waitForVerdict(api: ApiClient, token: string, datasetId: string, timeoutMs = 120_000): Promise<ValidationStatusBody> {
  return waitFor(
    async () => {
      const status = await expectBody<ValidationStatusBody>(api.as(token).GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId } } }), 200);
      return ['passed', 'failed', 'error'].includes(status.status) ? status : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `the validation of ${datasetId} to finish` },
  );
}

/** The whole flow for one dataset: start, PUT, complete, verdict. */
export async function uploadAndValidate(
  api: ApiClient,
  token: string,
  name: string,
  profile: Schemas['StartUploadDto']['profile'],
  files: LocalFile[],
  options?: Schemas['UploadOptionsDto'],
): Promise<{ datasetId: string; verdict: ValidationStatusBody }> {
  const start = await startUpload(api, token, name, profile, files, options);
  const parts = await putFiles(start, files);
  await expectBody(api.as(token).POST('/api/v1/upload/complete', { body: { datasetId: start.datasetId, ...(parts.length ? { files: parts } : {}) } }), 202);
  return { datasetId: start.datasetId, verdict: await waitForVerdict(api, token, start.datasetId) };
}

export const distinctCodes = (status: ValidationStatusBody): string[] => [...new Set(status.issues.map((i) => i.code))].sort();
