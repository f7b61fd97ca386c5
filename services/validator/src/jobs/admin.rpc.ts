import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { decodePageCursor, RpcError, ValidatorAdminRpc, type ValidationJobStatus } from '@flotilla/contracts';
import { isAdminCaller, RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { JobQueries, type JobListItem } from './job-queries.js';

const STATUSES: readonly ValidationJobStatus[] = ['queued', 'running', 'passed', 'failed', 'error'];

class ListJobsDto {
  @IsOptional()
  @IsIn(STATUSES)
  status?: ValidationJobStatus;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

/** What `validator.list` answers. */
export interface JobList {
  items: JobListItem[];
  nextCursor: string | null;
}

/**
 * The admin's `validator.*` patterns: every team's jobs (administrators only) and the
 * count per status (administrators, or the admin service calling on its own), both by the
 * verified caller token.
 */
@Injectable()
export class AdminRpc implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueries,
    private readonly server: RpcServer,
  ) {}

  onModuleInit(): void {
    this.server.handle(ValidatorAdminRpc.List, (payload, meta) => this.list(payload, meta));
    this.server.handle(ValidatorAdminRpc.Counts, async (_payload, meta) => {
      if (!isAdminCaller(meta, ['admin'])) throw new RpcError('FORBIDDEN', 'Only administrators see validation counts.');
      return { byStatus: await this.jobs.counts() };
    });
  }

  async list(payload: unknown, meta: RpcRequestMeta): Promise<JobList> {
    if (meta.actor?.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators list every team\'s validation jobs.');
    const input = await validatePayload(ListJobsDto, payload);
    const cursor = input.cursor ? decodePageCursor(input.cursor) : undefined;
    if (cursor === null) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'cursor', message: 'cursor is not valid' }]);
    return this.jobs.list({
      status: input.status,
      after: cursor ? { queuedAt: cursor.createdAt, id: cursor.id } : undefined,
      limit: input.limit ?? 50,
    });
  }
}
