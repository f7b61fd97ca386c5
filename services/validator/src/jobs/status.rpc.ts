import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { IsUUID } from 'class-validator';
import { ENV } from '@flotilla/config';
import { FINISHED_JOB_STATUSES, RpcError, ValidatorRpc, type ValidationStatus } from '@flotilla/contracts';
import { RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { ObjectStorage } from '@flotilla/storage';
import type { ValidatorEnv } from '../validator.env.js';
import { JobStore } from './job-store.js';

class StatusRequestDto {
  @IsUUID()
  datasetId: string;
}

/** What `validator.status` answers: the status, and a version for the gateway's ETag. */
export interface StatusReply {
  status: ValidationStatus;
  version: string;
}

@Injectable()
export class StatusRpc implements OnModuleInit {
  constructor(
    private readonly jobs: JobStore,
    private readonly storage: ObjectStorage,
    private readonly server: RpcServer,
    @Inject(ENV) private readonly env: ValidatorEnv,
  ) {}

  onModuleInit(): void {
    this.server.handle(ValidatorRpc.Status, (payload, meta) => this.status(payload, meta));
  }

  /**
   * The latest job of a dataset of the caller's team (any team for administrators);
   * `null` while there is none yet — an ordinary answer between `upload/complete` and the
   * job's registration, which clients polling early get many times.
   */
  async status(payload: unknown, meta: RpcRequestMeta): Promise<StatusReply | null> {
    const { datasetId } = await validatePayload(StatusRequestDto, payload);
    const job = await this.jobs.latest(datasetId);
    const actor = meta.actor;
    if (!job && actor) return null;
    if (!job || !actor || (actor.role !== 'admin' && actor.teamId !== job.team_id)) {
      throw new RpcError('NOT_FOUND', `No validation job for dataset ${datasetId}.`);
    }
    const status = await this.jobs.status(job);
    if (job.report_key && FINISHED_JOB_STATUSES.includes(job.status)) {
      status.reportUrl = (await this.storage.presignGet(job.report_key, { expiresInSeconds: this.env.REPORT_URL_TTL_SECONDS })).url;
    }
    return { status, version: `${job.id}.${job.version}` };
  }
}
