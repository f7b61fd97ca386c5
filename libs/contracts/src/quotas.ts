/**
 * Team quotas on datasets: owned by `upload`, checked at `upload/start`, set by an
 * administrator through `PUT /admin/teams/{id}/quota`.
 */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { RpcFieldError } from './rpc.js';

export const QuotaRpc = {
  /** `{teamId, ...limits}` → {@link TeamQuotaView}; administrators only. */
  Set: 'upload.setQuota',
  /** `{teamId}` → {@link TeamQuotaView}; administrators only. */
  Get: 'upload.quota',
} as const;

/** The four limits, as named in a refusal's `limit`. */
export const QuotaLimits = ['storedBytes', 'datasetBytes', 'filesPerDataset', 'concurrentUploads'] as const;
export type QuotaLimit = (typeof QuotaLimits)[number];

/** The limits in force for a team; `overrides` holds only what an administrator set. */
export interface TeamQuotaLimits {
  maxStoredBytes: number;
  maxDatasetBytes: number;
  maxFilesPerDataset: number;
  maxConcurrentUploads: number;
}

export interface TeamQuotaView {
  teamId: string;
  limits: TeamQuotaLimits;
  overrides: Partial<Record<keyof TeamQuotaLimits, number>>;
  usage: { storedBytes: number; concurrentUploads: number };
}

/**
 * One refused limit, in the problem document's `errors`: which limit, its maximum,
 * what the team uses now and what the request asked for.
 */
export interface QuotaExceeded extends RpcFieldError {
  limit: QuotaLimit;
  max: number;
  used: number;
  requested: number;
}

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/** `PUT /admin/teams/{id}/quota`: any of the four limits; `null` falls back to the configured default. */
export class SetTeamQuotaDto {
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Bytes of all datasets of the team (completed and pending)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  maxStoredBytes?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Declared bytes of one dataset' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  maxDatasetBytes?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Files in one dataset' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxFilesPerDataset?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Datasets pending upload at once' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  maxConcurrentUploads?: number | null;
}
