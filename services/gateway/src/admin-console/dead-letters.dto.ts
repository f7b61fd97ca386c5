import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsObject, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateNested } from 'class-validator';

export class DeadLetterFilterDto {
  @ApiPropertyOptional({ description: 'The queue or stream the letters failed in, exactly (as listed in `sources`)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  source?: string;

  @ApiPropertyOptional({ description: "Searched in the letter's id, its message id, its type and its error text" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

/**
 * Body of the bulk replay and discard: exactly one of `ids` and `filter` (the admin
 * service answers 400 otherwise); only `dead` letters are acted on, at most 500 a call.
 */
export class DeadLetterBulkDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: 500, description: 'These letters' })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(500)
  @IsUUID('all', { each: true })
  ids?: string[];

  @ApiPropertyOptional({ type: DeadLetterFilterDto, description: 'Every dead letter matching it ({} is every one)' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DeadLetterFilterDto)
  filter?: DeadLetterFilterDto;

  @ApiPropertyOptional({ description: 'Only count what would be acted on', default: false })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** `POST /admin/dead-letters/replay`: what the selection matched and what was sent back. */
export class DeadLetterReplayResultDto {
  @ApiProperty(COUNT) matched!: number;
  @ApiProperty(COUNT) replayed!: number;
  @ApiProperty() dryRun!: boolean;
}

/** `POST /admin/dead-letters/discard`: what the selection matched and what was discarded. */
export class DeadLetterDiscardResultDto {
  @ApiProperty(COUNT) matched!: number;
  @ApiProperty(COUNT) discarded!: number;
  @ApiProperty() dryRun!: boolean;
}
