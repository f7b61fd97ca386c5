import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

export class DatasetRefDto {
  @IsUUID()
  datasetId: string;
}

export class FileRefDto extends DatasetRefDto {
  @IsUUID()
  fileId: string;
}

export class ListDatasetsDto {
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

  /** `all`: every team's datasets (administrators only). */
  @IsOptional()
  @IsIn(['team', 'all'])
  scope?: 'team' | 'all';
}

/** `upload.purge`: datasets created before this instant go (abandoned uploads go whatever their age). */
export class PurgeDatasetsDto {
  @IsISO8601({ strict: true, strictSeparator: true })
  before: string;
}
