import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { ENV } from '@flotilla/config';
import {
  filenameProblem,
  PROFILE_CONTENT_TYPES,
  RpcError,
  type FileTarget,
  type RpcActor,
  type RpcFieldError,
  type StartUploadDto,
  type StartUploadResponse,
} from '@flotilla/contracts';
import { ObjectStorage, presignChecksummedPut } from '@flotilla/storage';
import { TeamQuotas } from '../quotas/team-quotas.js';
import type { UploadEnv } from '../upload.env.js';
import { finalKey, storageError, uploadKey } from './dataset-records.js';
import { abortMultipartUploads } from './multipart.js';
import { UploadSessions } from './upload-sessions.js';

const MAX_PARTS = 10_000;

/**
 * `upload/start`: checks the file list, signs an upload URL per file (part URLs above
 * the multipart threshold), records the dataset and its files, and opens the session.
 * Objects go straight from the client to S3; nothing here touches their bytes.
 */
@Injectable()
export class UploadStartService {
  private readonly logger = new Logger(UploadStartService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly sessions: UploadSessions,
    private readonly quotas: TeamQuotas,
    @Inject(ENV) private readonly env: UploadEnv,
  ) {}
  /**
   * Checks every file entry (422 listing each problem, before anything is signed),
   * signs an upload URL per file — part URLs above the multipart threshold — records
   * the dataset and its files, and opens the upload session.
   */
  async start(input: StartUploadDto, actor: RpcActor): Promise<StartUploadResponse> {
    const teamId = actor.teamId;
    if (!teamId) throw new RpcError('UNPROCESSABLE', 'Datasets belong to a team, and this account has none.');
    this.checkFiles(input);
    const datasetId = randomUUID();
    await this.quotas.reserve(teamId, datasetId, input.files);
    const ttl = this.env.UPLOAD_URL_TTL_SECONDS;
    const files = input.files.map((file, position) => {
      const id = randomUUID();
      const multipart = file.sizeBytes > this.env.UPLOAD_MULTIPART_THRESHOLD_BYTES;
      const key = uploadKey(datasetId, id, file.filename);
      return { ...file, id, position, uploadKey: key, key: multipart ? key : finalKey(datasetId, id, file.filename), uploadId: null as string | null, partSize: multipart ? this.env.UPLOAD_PART_SIZE_BYTES : null };
    });
    const targets: FileTarget[] = [];
    try {
      for (const file of files) {
        if (file.sizeBytes > this.env.UPLOAD_MULTIPART_THRESHOLD_BYTES) {
          file.uploadId = await this.storage.createMultipartUpload(file.key, file.contentType);
          const partSize = file.partSize!;
          const count = Math.ceil(file.sizeBytes / partSize);
          const parts = await Promise.all(
            Array.from({ length: count }, async (_, i) => {
              const part = { partNumber: i + 1, sizeBytes: Math.min(partSize, file.sizeBytes - i * partSize) };
              const uploadUrl = await this.storage.presignUploadPart(file.key, { uploadId: file.uploadId!, partNumber: part.partNumber, contentLength: part.sizeBytes, expiresInSeconds: ttl });
              return { ...part, uploadUrl };
            }),
          );
          targets.push({
            fileId: file.id,
            filename: file.filename,
            multipart: { uploadId: file.uploadId!, partSizeBytes: partSize, parts },
            expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
          });
        } else {
          const put = await this.presignPut(file.uploadKey, file, ttl);
          targets.push({ fileId: file.id, filename: file.filename, method: 'PUT', uploadUrl: put.url, headers: put.headers, expiresAt: put.expiresAt });
        }
      }
      await this.dataSource.transaction(async (m) => {
        await m.query(
          `INSERT INTO datasets (id, team_id, created_by, name, description, profile, options, status, file_count, total_bytes, upload_expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, now() + make_interval(secs => $10))`,
          [datasetId, teamId, actor.userId, input.datasetName, input.description ?? null, input.profile, JSON.stringify(input.options ?? {}),
            files.length, files.reduce((sum, f) => sum + f.sizeBytes, 0), ttl],
        );
        await m.query(
          `INSERT INTO dataset_files (id, dataset_id, position, filename, content_type, size_bytes, declared_sha256, object_key, upload_key, multipart_upload_id, part_size_bytes, status)
           SELECT u.id, $1, u.position, u.filename, u.content_type, u.size_bytes, u.sha256, u.object_key, u.upload_key, u.upload_id, u.part_size, 'pending'
           FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
             AS u(id, position, filename, content_type, size_bytes, sha256, object_key, upload_key, upload_id, part_size)`,
          [datasetId, files.map((f) => f.id), files.map((f) => f.position), files.map((f) => f.filename), files.map((f) => f.contentType),
            files.map((f) => f.sizeBytes), files.map((f) => f.sha256?.toLowerCase() ?? null), files.map((f) => f.key), files.map((f) => f.uploadKey),
            files.map((f) => f.uploadId), files.map((f) => f.partSize)],
        );
      });
    } catch (error) {
      await abortMultipartUploads(this.storage, this.logger, files.filter((f) => f.uploadId).map((f) => ({ key: f.key, uploadId: f.uploadId! })));
      throw storageError(error);
    }
    await this.sessions.open(datasetId, { teamId, userId: actor.userId, fileCount: files.length }, ttl);
    return { datasetId, expiresIn: ttl, files: targets };
  }

  /**
   * One PUT URL. When the client declared the file's SHA-256, it is signed in as
   * `x-amz-checksum-sha256`: S3 and MinIO then refuse any other bytes at that URL.
   */
  private async presignPut(key: string, file: { sizeBytes: number; contentType: string; sha256?: string }, ttl: number) {
    const options = { contentLength: file.sizeBytes, contentType: file.contentType, expiresInSeconds: ttl };
    if (file.sha256) return presignChecksummedPut(this.storage, key, { ...options, sha256Hex: file.sha256.toLowerCase() });
    return this.storage.presignPut(key, options);
  }

  /** API.md's filename, count, size and content-type rules, each problem listed. */
  private checkFiles(input: StartUploadDto): void {
    const problems: RpcFieldError[] = [];
    if (input.files.length === 0) problems.push({ path: 'files', message: 'at least one file is required' });
    if (input.files.length > this.env.UPLOAD_MAX_FILES) {
      problems.push({ path: 'files', message: `at most ${this.env.UPLOAD_MAX_FILES} files per dataset (got ${input.files.length})` });
    }
    const accepted = PROFILE_CONTENT_TYPES[input.profile];
    const seen = new Set<string>();
    input.files.forEach((file, i) => {
      const at = `files[${i}]`;
      const problem = filenameProblem(file.filename);
      if (problem) problems.push({ path: `${at}.filename`, message: `filename ${JSON.stringify(file.filename)} ${problem}` });
      else if (seen.has(file.filename)) problems.push({ path: `${at}.filename`, message: `filename ${JSON.stringify(file.filename)} appears more than once` });
      seen.add(file.filename);
      if (file.sizeBytes > this.env.UPLOAD_MAX_FILE_BYTES) {
        problems.push({ path: `${at}.sizeBytes`, message: `${file.sizeBytes} bytes is over the limit of ${this.env.UPLOAD_MAX_FILE_BYTES}` });
      } else if (Math.ceil(file.sizeBytes / this.env.UPLOAD_PART_SIZE_BYTES) > MAX_PARTS) {
        problems.push({ path: `${at}.sizeBytes`, message: `${file.sizeBytes} bytes needs more than ${MAX_PARTS} parts` });
      }
      const type = file.contentType.split(';')[0]!.trim().toLowerCase();
      if (!accepted.includes(type)) {
        problems.push({ path: `${at}.contentType`, message: `${type} is not accepted by profile ${input.profile}; accepted: ${accepted.join(', ')}` });
      }
    });
    if (problems.length > 0) throw new RpcError('UNPROCESSABLE', `The upload was refused: ${problems.length} problem(s) in the file list.`, problems);
  }
}
