import { ApiProperty } from '@nestjs/swagger';

/**
 * Retention cleanup runs (CleanupRun in @flotilla/contracts, admin.ts), described for the
 * OpenAPI document: the log holds the latest 100 runs (admin's cleanup log).
 */
const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export class CleanupRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['schedule', 'manual'] }) trigger!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The administrator who ran it by hand' }) actorId!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 36_500 }) retentionDays!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status!: string;
  @ApiProperty(COUNT) datasetsDeleted!: number;
  @ApiProperty(COUNT) objectsDeleted!: number;
  @ApiProperty(COUNT) bytesFreed!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why it failed' }) error!: string | null;
}

export class CleanupLogDto {
  @ApiProperty({ type: [CleanupRunDto], maxItems: 100, description: 'The latest 100 runs, newest first' }) items!: CleanupRunDto[];
}
