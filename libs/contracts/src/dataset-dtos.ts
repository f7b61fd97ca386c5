import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  DatasetProfiles,
  TeamsEditions,
  type CompleteUploadRequest,
  type DatasetProfile,
  type StartFile,
  type StartUploadRequest,
  type TeamsEdition,
} from './datasets.js';

/**
 * The shapes of the dataset requests, checked at the gateway (400 for a malformed body)
 * and again by `upload`, the owner, on its RPC. What is well-formed but not allowed
 * (hostile filenames, limits, content types) is `upload`'s 422.
 */

/** Upper bound on the file list of one request; the deployment's own limit (`UPLOAD_MAX_FILES`) is lower. */
export const MAX_FILES_PER_REQUEST = 10_000;

export class StartFileDto implements StartFile {
  @ApiProperty({ description: 'Name of the file in the dataset: no path separators, no "..", no control characters, at most 255 bytes', example: 'scan-001.png' })
  @IsString()
  @MaxLength(1024)
  filename: string;

  @ApiProperty({ description: 'MIME type the client will send when uploading; must be one the profile accepts', example: 'image/png' })
  @IsString()
  @MaxLength(255)
  @Matches(/^[A-Za-z0-9][\w.+-]*\/[\w.+-]+(\s*;.*)?$/, { message: 'contentType must be a MIME type such as image/png' })
  contentType: string;

  @ApiProperty({ description: 'Exact size in bytes; the upload URL only accepts this length', example: 524288 })
  @IsInt()
  @Min(0)
  sizeBytes: number;

  @ApiPropertyOptional({ description: 'SHA-256 of the content (hex); the validator checks it', maxLength: 64, example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hexadecimal characters' })
  sha256?: string;
}

export class UploadOptionsDto {
  @ApiPropertyOptional({ enum: TeamsEditions, description: 'teams-json: the ROM edition whose team counts apply when no ROM is uploaded' })
  @IsOptional()
  @IsIn(TeamsEditions)
  edition?: TeamsEdition;
}

export class StartUploadDto implements StartUploadRequest {
  @ApiProperty({ example: 'luna-batch-7' })
  @IsString()
  @Length(1, 200)
  datasetName: string;

  @ApiPropertyOptional({ example: 'Chest X-rays, second batch' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ enum: DatasetProfiles, description: 'Validation profile (VALIDATION.md)' })
  @IsIn(DatasetProfiles)
  profile: DatasetProfile;

  @ApiPropertyOptional({ type: UploadOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => UploadOptionsDto)
  options?: UploadOptionsDto;

  @ApiProperty({ type: [StartFileDto] })
  @IsArray()
  @ArrayMaxSize(MAX_FILES_PER_REQUEST)
  @ValidateNested({ each: true })
  @Type(() => StartFileDto)
  files: StartFileDto[];
}

export class CompletedPartDto {
  @ApiProperty({ minimum: 1, maximum: 10000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  partNumber: number;

  @ApiProperty({ description: 'The ETag header of the part upload response', example: '"9b2cf535f27731c974343645a3985328"' })
  @IsString()
  @Length(1, 200)
  etag: string;
}

export class CompletedFileDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  fileId: string;

  @ApiProperty({ type: [CompletedPartDto] })
  @IsArray()
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => CompletedPartDto)
  parts: CompletedPartDto[];
}

export class CompleteUploadDto implements CompleteUploadRequest {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  datasetId: string;

  @ApiPropertyOptional({ type: [CompletedFileDto], description: 'Parts of each multipart file, in any order' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FILES_PER_REQUEST)
  @ValidateNested({ each: true })
  @Type(() => CompletedFileDto)
  files?: CompletedFileDto[];
}
