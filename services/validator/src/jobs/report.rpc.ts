import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';
import { mayAccessTeam, RpcError, ValidatorRpc, type ValidationReport } from '@flotilla/contracts';
import { RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { JobQueries } from './job-queries.js';

class ReportRequestDto {
  @IsUUID()
  datasetId: string;

  /** The `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

/** Issues are paged by their place in the job: the cursor names the job and the last place seen. */
const encodeCursor = (jobId: string, seq: number): string => Buffer.from(`${jobId}|${seq}`).toString('base64url');

function decodeCursor(raw: string, jobId: string): number {
  const [id, seq, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const place = Number(seq);
  // A cursor of another job (the dataset was validated again since) or not one of ours.
  if (rest.length > 0 || id !== jobId || !Number.isSafeInteger(place) || place < 0) {
    throw new RpcError('VALIDATION', 'The cursor is not one this report issued (or the dataset was validated again since): start from the first page.');
  }
  return place;
}

/** `validator.report`: the latest job of a dataset of the caller's team, its issues a page at a time. */
@Injectable()
export class ReportRpc implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueries,
    private readonly server: RpcServer,
  ) {}

  onModuleInit(): void {
    this.server.handle(ValidatorRpc.Report, (payload, meta) => this.report(payload, meta));
  }

  async report(payload: unknown, meta: RpcRequestMeta): Promise<ValidationReport> {
    const request = await validatePayload(ReportRequestDto, payload);
    const job = await this.jobs.latest(request.datasetId);
    if (!job || !meta.actor || !mayAccessTeam(meta.actor, job.team_id)) {
      throw new RpcError('NOT_FOUND', `No validation report for dataset ${request.datasetId}.`);
    }
    const limit = request.limit ?? 50;
    const after = request.cursor === undefined ? -1 : decodeCursor(request.cursor, job.id);
    const page = job.finished_at ? await this.jobs.issuePage(job.id, after, limit) : { items: [], lastSeq: null, more: false };
    return {
      datasetId: job.dataset_id,
      jobId: job.id,
      status: job.status,
      summary: { errors: job.errors, warnings: job.warnings },
      items: page.items,
      nextCursor: page.more && page.lastSeq !== null ? encodeCursor(job.id, page.lastSeq) : null,
    };
  }
}
