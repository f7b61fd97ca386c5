import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

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
