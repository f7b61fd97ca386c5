import { AdminPageQueryDto, RpcError, type DeadLetterStatus } from '@flotilla/contracts';
import { validatePayload } from '@flotilla/messaging';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { BULK_MAX, type LetterFilter } from './filter.js';

// The payloads of the dead-letter patterns, checked as the HTTP edge checks bodies (unknown fields rejected).

export class DeadLetterRefDto {
  @IsUUID() id: string;
}

export class DeadLettersQueryDto extends AdminPageQueryDto {
  @IsOptional() @IsIn(['dead', 'replaying', 'replayed', 'discarded']) status?: DeadLetterStatus;
  @IsOptional() @IsString() @MaxLength(300) source?: string;
  @IsOptional() @IsString() @MaxLength(200) q?: string;
}

class DeadLetterFilterDto {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(300) source?: string;
  @IsOptional() @IsString() @MaxLength(200) q?: string;
}

/** Exactly one of `ids` and `filter`: a request naming neither would act on nothing or, read loosely, on everything. */
class DeadLetterBulkDto {
  @ValidateIf((o: DeadLetterBulkDto) => o.ids !== undefined || o.filter === undefined)
  @IsArray({ message: 'give ids (an array of dead letter ids) or a filter' })
  @ArrayNotEmpty()
  @ArrayMaxSize(BULK_MAX)
  @IsUUID('all', { each: true })
  ids?: string[];

  @ValidateIf((o: DeadLetterBulkDto) => o.filter !== undefined || o.ids === undefined)
  @IsObject({ message: 'give a filter ({source?, q?}) or ids' })
  @ValidateNested()
  @Type(() => DeadLetterFilterDto)
  filter?: DeadLetterFilterDto;

  @IsOptional() @IsBoolean() dryRun?: boolean;
}

/** A bulk request's selection and whether it is a dry run. */
export async function bulkRequest(payload: unknown): Promise<{ selection: LetterFilter; dryRun: boolean }> {
  const dto = await validatePayload(DeadLetterBulkDto, payload);
  if (dto.ids && dto.filter) {
    throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'filter', message: 'give either ids or a filter, not both' }]);
  }
  return { selection: dto.ids ? { ids: [...new Set(dto.ids)] } : { source: dto.filter?.source, q: dto.filter?.q }, dryRun: dto.dryRun ?? false };
}
