import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV } from '@flotilla/config';
import { RpcError, type FileTarget, type ResumeFileState, type ResumeUploadResponse, type RpcActor } from '@flotilla/contracts';
import { ObjectStorage, presignChecksummedPut } from '@flotilla/storage';
import type { UploadEnv } from '../upload.env.js';
import { DatasetRecords, partSizeOf, storageError, type DatasetRow, type FileRow } from './dataset-records.js';
import { listStoredParts, unavailable } from './upload-resume-parts.js';
import { UploadSessions } from './upload-sessions.js';

/**
 * `GET /datasets/{id}/upload`: asks the store what it already holds of a pending upload
 * (ListParts for multipart files, HEAD for single-PUT ones) and signs only what is
 * missing, also after the first URLs expired. Re-signing pushes `upload_expires_at` (and
 * the session) forward first, so the sweep never clears an upload whose new URLs are
 * valid; an upload the sweep already cleared is refused, its objects being gone.
 */
@Injectable()
export class UploadResumeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly records: DatasetRecords,
    private readonly sessions: UploadSessions,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}

  async resume(datasetId: string, actor: RpcActor): Promise<ResumeUploadResponse> {
    const found = await this.records.findScoped(datasetId, actor);
    // Only the owning team uploads: an administrator of another team does not get URLs.
    if (found.team_id !== actor.teamId) throw new RpcError('NOT_FOUND', `Dataset ${datasetId} does not exist.`);
    const ttl = this.env.UPLOAD_URL_TTL_SECONDS;
    const dataset = await this.extend(found, ttl);
    const files = await this.records.files(dataset.id);
    const states: ResumeFileState[] = [];
    const targets: FileTarget[] = [];
    const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    try {
      for (const file of files) {
        const { state, target } = file.multipart_upload_id ? await this.multipart(file, file.multipart_upload_id, ttl, expiresAt) : await this.single(file, ttl);
        states.push(state);
        if (target) targets.push(target);
      }
    } catch (error) {
      throw storageError(unavailable(error));
    }
    await this.sessions.open(dataset.id, { teamId: dataset.team_id, userId: actor.userId, fileCount: files.length }, ttl);
    return { datasetId: dataset.id, expiresIn: ttl, files: states, targets };
  }

  /**
   * Pushes the upload's expiry to at least `ttl` from now, only while it is pending and
   * not cleared: the sweep claims rows with the same condition, so the two cannot both win.
   */
  private async extend(dataset: DatasetRow, ttl: number): Promise<DatasetRow> {
    const [rows] = (await this.dataSource.query(
      `UPDATE datasets SET upload_expires_at = greatest(upload_expires_at, now() + make_interval(secs => $2)), updated_at = now()
       WHERE id = $1 AND status = 'pending' AND upload_cleared_at IS NULL RETURNING *`,
      [dataset.id, ttl],
    )) as [DatasetRow[], number];
    if (rows[0]) return rows[0];
    const [now] = (await this.dataSource.query(`SELECT * FROM datasets WHERE id = $1`, [dataset.id])) as DatasetRow[];
    if (!now) throw new RpcError('NOT_FOUND', `Dataset ${dataset.id} does not exist.`);
    if (now.status !== 'pending') throw new RpcError('CONFLICT', `Dataset ${dataset.id} is no longer pending upload (it is ${now.status}).`);
    throw new RpcError('UNPROCESSABLE', 'The upload expired and its objects were removed; nothing can be resumed. Start a new upload.');
  }

  private async multipart(file: FileRow, uploadId: string, ttl: number, expiresAt: string): Promise<{ state: ResumeFileState; target?: FileTarget }> {
    const stored = await listStoredParts(this.storage, file.object_key, uploadId);
    if (!stored) throw new RpcError('UNPROCESSABLE', `The multipart upload of ${file.filename} is gone from the store; start a new upload.`);
    const size = Number(file.size_bytes);
    const partSize = partSizeOf(file, this.env.UPLOAD_PART_SIZE_BYTES);
    const count = Math.ceil(size / partSize);
    const parts = Array.from({ length: count }, (_, i) => {
      const partNumber = i + 1;
      const sizeBytes = Math.min(partSize, size - i * partSize);
      const held = stored.get(partNumber);
      // A part of another length (cut off mid-way) is sent again.
      return held && held.sizeBytes === sizeBytes ? { partNumber, sizeBytes, uploaded: true, etag: held.etag } : { partNumber, sizeBytes, uploaded: false };
    });
    const missing = parts.filter((p) => !p.uploaded);
    const state: ResumeFileState = {
      fileId: file.id,
      filename: file.filename,
      uploaded: missing.length === 0,
      parts: parts.map((p) => (p.uploaded ? { partNumber: p.partNumber, uploaded: true, etag: p.etag } : { partNumber: p.partNumber, uploaded: false })),
    };
    if (missing.length === 0) return { state };
    const signed = await Promise.all(
      missing.map(async (p) => ({
        partNumber: p.partNumber,
        sizeBytes: p.sizeBytes,
        uploadUrl: await this.storage.presignUploadPart(file.object_key, { uploadId, partNumber: p.partNumber, contentLength: p.sizeBytes, expiresInSeconds: ttl }),
      })),
    );
    return { state, target: { fileId: file.id, filename: file.filename, multipart: { uploadId, partSizeBytes: partSize, parts: signed }, expiresAt } };
  }

  private async single(file: FileRow, ttl: number): Promise<{ state: ResumeFileState; target?: FileTarget }> {
    const size = Number(file.size_bytes);
    const head = await this.storage.head(file.upload_key);
    const uploaded = head !== null && head.sizeBytes === size;
    const state: ResumeFileState = { fileId: file.id, filename: file.filename, uploaded };
    if (uploaded) return { state };
    const options = { contentLength: size, contentType: file.content_type, expiresInSeconds: ttl };
    const put = file.declared_sha256
      ? await presignChecksummedPut(this.storage, file.upload_key, { ...options, sha256Hex: file.declared_sha256 })
      : await this.storage.presignPut(file.upload_key, options);
    return { state, target: { fileId: file.id, filename: file.filename, method: 'PUT', uploadUrl: put.url, headers: put.headers, expiresAt: put.expiresAt } };
  }
}
