import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import { IsUUID } from 'class-validator';
import { FINISHED_JOB_STATUSES, mayAccessTeam, RpcError, ValidatorRpc, type ValidationStatus } from '@flotilla/contracts';
import { RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import type { ValidatorEnv } from '../validator.env.js';
import { JobQueries } from './job-queries.js';
import { StatusSnapshots } from './status-snapshots.js';

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
    private readonly jobs: JobQueries,
    private readonly server: RpcServer,
    private readonly snapshots: StatusSnapshots,
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
    if (!job || !actor || !mayAccessTeam(actor, job.team_id)) {
      throw new RpcError('NOT_FOUND', `No validation job for dataset ${datasetId}.`);
    }
    const status = await this.jobs.status(job, this.env.VALIDATION_STATUS_ISSUES);
    let link: { url: string; expiresAt: number } | undefined;
    if (job.report_key && FINISHED_JOB_STATUSES.includes(job.status)) {
      link = await this.snapshots.reportUrl(job.id, job.report_key);
      status.reportUrl = link.url;
    }
    const version = `${job.id}.${job.version}`;
    // The gateway answers the next polls of a settled job from this copy.
    void this.snapshots.publish(job.team_id, version, status, link?.expiresAt);
    return { status, version };
  }
}
