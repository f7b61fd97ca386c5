import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ENV, Naming } from '@flotilla/config';
import {
  RpcError,
  STATUS_SNAPSHOT_DELETED,
  STATUS_SNAPSHOT_DELETED_TTL_SECONDS,
  statusSnapshotKey,
  UploadRpc,
  ValidatorRpc,
  type CompleteUploadDto,
  type CompleteUploadResult,
  type DatasetDetail,
  type DatasetList,
  type DownloadLink,
  type RpcActor,
  type StartUploadDto,
  type ResumeUploadResponse,
  type StartUploadResponse,
  type ValidationReport,
  type ValidationStatus,
} from '@flotilla/contracts';
import { REDIS, RpcClient } from '@flotilla/messaging';
import type { AuthUser } from '@flotilla/auth';
import type { GatewayEnv } from '../gateway.env.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const actorOf = (user: AuthUser): RpcActor => ({ userId: user.id, role: user.role, teamId: user.teamId });

/** A status and the version that is its ETag. */
export interface VersionedStatus {
  status: ValidationStatus;
  version: string;
}

/** Datasets are owned by `upload`, validation jobs by `validator`; the gateway asks them on the caller's behalf. */
@Injectable()
export class DatasetsService {
  private readonly logger = new Logger(DatasetsService.name);

  constructor(
    private readonly rpc: RpcClient,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {}

  /**
   * Longer than the default RPC timeout, like {@link complete}: starting signs a URL per
   * file (per part above the multipart threshold) and opens each multipart upload in S3,
   * so its time grows with the files; a burst of teams starting at once queues behind the
   * upload service's prefetch. A start the client gave up on stays `pending` and is purged.
   */
  start(input: StartUploadDto, user: AuthUser): Promise<StartUploadResponse> {
    return this.rpc.call('upload', UploadRpc.Start, input, { actor: actorOf(user), timeoutMs: this.env.UPLOAD_RPC_TIMEOUT_MS });
  }

  /**
   * Longer than the default RPC timeout: completing checks every object in S3 (and
   * assembles multipart uploads), so its time grows with the files and with S3's load.
   * A client that times out anyway may repeat it: a completed dataset answers its job.
   */
  complete(input: CompleteUploadDto, user: AuthUser): Promise<CompleteUploadResult> {
    return this.rpc.call('upload', UploadRpc.Complete, input, { actor: actorOf(user), timeoutMs: this.env.UPLOAD_RPC_TIMEOUT_MS });
  }

  /** Like {@link start}, its time grows with the files: each is asked of S3 (ListParts or HEAD) and its missing parts signed. */
  resume(datasetId: string, user: AuthUser): Promise<ResumeUploadResponse> {
    return this.rpc.call('upload', UploadRpc.Resume, { datasetId: checkId(datasetId) }, { actor: actorOf(user), timeoutMs: this.env.UPLOAD_RPC_TIMEOUT_MS });
  }

  list(user: AuthUser, cursor: string | undefined, limit: number | undefined, scope: 'team' | 'all' = 'team'): Promise<DatasetList> {
    return this.rpc.call('upload', UploadRpc.List, { cursor, limit, scope }, { actor: actorOf(user) });
  }

  get(datasetId: string, user: AuthUser): Promise<DatasetDetail> {
    return this.rpc.call('upload', UploadRpc.Get, { datasetId: checkId(datasetId) }, { actor: actorOf(user) });
  }

  download(datasetId: string, fileId: string, user: AuthUser): Promise<DownloadLink> {
    return this.rpc.call('upload', UploadRpc.Download, { datasetId: checkId(datasetId), fileId: checkId(fileId, 'File') }, { actor: actorOf(user) });
  }

  async delete(datasetId: string, user: AuthUser): Promise<void> {
    await this.rpc.call('upload', UploadRpc.Delete, { datasetId: checkId(datasetId) }, { actor: actorOf(user), timeoutMs: 60_000 });
    // Status polls are answered from the validator's snapshot when there is one: it goes
    // now, not when the validator hears of the deletion (which writes the same marker).
    await this.redis
      .set(this.naming.key(statusSnapshotKey(datasetId)), STATUS_SNAPSHOT_DELETED, 'EX', STATUS_SNAPSHOT_DELETED_TTL_SECONDS)
      .catch((error: unknown) => this.logger.warn(`status snapshot of deleted dataset ${datasetId} not removed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /**
   * The latest validation of a dataset. `upload` owns the dataset and says whether the
   * caller may see it (and whether it still exists); `validator` owns the job. Between
   * `upload/complete` and the moment a validator takes the job, only `upload` knows
   * it: it is then reported `queued`.
   */
  /**
   * A page of the latest validation's report: `upload` says whether the caller may see the
   * dataset (404 for another team's), `validator` holds the issues.
   */
  async report(datasetId: string, user: AuthUser, cursor: string | undefined, limit: number | undefined): Promise<ValidationReport> {
    checkId(datasetId);
    await this.get(datasetId, user);
    const request = { datasetId, ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) };
    return this.rpc.call<ValidationReport>('validator', ValidatorRpc.Report, request, { actor: actorOf(user) }).catch((error: unknown) => {
      if (error instanceof RpcError && error.code === 'NOT_FOUND') throw new NotFoundException(`Dataset ${datasetId} has no validation report yet.`);
      throw error;
    });
  }

  async status(datasetId: string, user: AuthUser): Promise<VersionedStatus> {
    checkId(datasetId);
    const [dataset, job] = await Promise.all([
      this.get(datasetId, user),
      // `null`: no job yet. A validator from before that answer says NOT_FOUND instead.
      this.rpc.call<VersionedStatus | null>('validator', ValidatorRpc.Status, { datasetId }, { actor: actorOf(user) }).catch((error: unknown) => {
        if (error instanceof RpcError && error.code === 'NOT_FOUND') return null;
        throw error;
      }),
    ]);
    if (job && job.status.jobId === dataset.latestJob?.id) return job;
    if (!dataset.latestJob) throw new NotFoundException(`Dataset ${datasetId} has not been completed, so it has no validation yet.`);
    const latest = dataset.latestJob;
    const bytesTotal = dataset.files.reduce((sum, f) => sum + f.sizeBytes, 0);
    return {
      version: `${latest.id}.queued`,
      status: {
        datasetId,
        jobId: latest.id,
        status: 'queued',
        progress: { filesTotal: dataset.files.length, filesChecked: 0, bytesTotal, bytesChecked: 0, percent: 0 },
        queuedAt: latest.queuedAt,
        summary: { errors: 0, warnings: 0 },
        issues: [],
      },
    };
  }
}

/** Whether `id` can be a dataset's id. */
export const isDatasetId = (id: string): boolean => UUID.test(id);

/** An id that cannot be one is simply not found. */
function checkId(id: string, what = 'Dataset'): string {
  if (!UUID.test(id)) throw new NotFoundException(`${what} ${id} does not exist.`);
  return id;
}
