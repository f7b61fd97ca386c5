import { ApiProperty, ApiPropertyOptional, getSchemaPath, type ApiPropertyOptions } from '@nestjs/swagger';
import { DatasetProfiles, TeamsEditions } from '@flotilla/contracts';

/**
 * The datasets API's answers (types in @flotilla/contracts, datasets.ts), described for the
 * OpenAPI document. Bounds come from what produced each value: the upload's validation
 * (StartUploadDto: 10 000 files, names of 1024 characters, types of 255), S3's 10 000 parts,
 * the page limits (200) and the validator's caps (VALIDATION_STATUS_ISSUES ≤ 1000 issues,
 * VALIDATION_MAX_MESSAGE_LENGTH ≤ 100 000 characters).
 */
const MAX_FILES = 10_000;
const MAX_PARTS = 10_000;
const FILENAME_MAX = 1024;
const CONTENT_TYPE_MAX = 255;
const ISSUE_MESSAGE_MAX = 100_000;
/** A presigned URL: the endpoint, a key of UUIDs and the signature's query, far below it. */
const URL_MAX = 8192;
const JOB_STATUSES = ['queued', 'running', 'passed', 'failed', 'error'];
const DATASET_STATUSES = ['pending', ...JOB_STATUSES];
const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export class UploadPartTargetDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PARTS }) partNumber!: number;
  @ApiProperty({ ...COUNT, description: 'Exactly the bytes this URL takes' }) sizeBytes!: number;
  @ApiProperty({ format: 'uri', maxLength: URL_MAX }) uploadUrl!: string;
}

export class MultipartPlanDto {
  @ApiProperty({ maxLength: 1024, description: "The store's multipart upload id" }) uploadId!: string;
  @ApiProperty({ ...COUNT, description: 'Every part is this long but the last, which holds the rest' }) partSizeBytes!: number;
  @ApiProperty({ type: [UploadPartTargetDto], maxItems: MAX_PARTS }) parts!: UploadPartTargetDto[];
}

export class SinglePutTargetDto {
  @ApiProperty({ format: 'uuid' }) fileId!: string;
  @ApiProperty({ maxLength: FILENAME_MAX, example: 'scan-001.png' }) filename!: string;
  @ApiProperty({ enum: ['PUT'] }) method!: 'PUT';
  @ApiProperty({ format: 'uri', maxLength: URL_MAX }) uploadUrl!: string;
  @ApiProperty({
    description: 'Every header to send with the PUT (x-amz-checksum-sha256 when the sha256 was declared)',
    type: 'object',
    maxProperties: 20,
    additionalProperties: { type: 'string', maxLength: 1024 },
    example: { 'content-type': 'image/png' },
  })
  headers!: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class MultipartTargetDto {
  @ApiProperty({ format: 'uuid' }) fileId!: string;
  @ApiProperty({ maxLength: FILENAME_MAX, example: 'scan-001.dcm' }) filename!: string;
  @ApiProperty({ type: MultipartPlanDto }) multipart!: MultipartPlanDto;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

const FILE_TARGETS: ApiPropertyOptions = {
  type: 'array',
  maxItems: MAX_FILES,
  items: { oneOf: [{ $ref: getSchemaPath(SinglePutTargetDto) }, { $ref: getSchemaPath(MultipartTargetDto) }] },
};

export class StartUploadResponseDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ ...COUNT, description: 'Seconds the upload URLs stay valid' }) expiresIn!: number;
  @ApiProperty({ ...FILE_TARGETS, description: 'One target per file: a single PUT, or a multipart plan above the threshold' }) files!: unknown[];
}

export class ResumePartStateDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PARTS }) partNumber!: number;
  @ApiProperty() uploaded!: boolean;
  @ApiPropertyOptional({ maxLength: 1024, description: 'The ETag the store gave the part' }) etag?: string;
}

export class ResumeFileStateDto {
  @ApiProperty({ format: 'uuid' }) fileId!: string;
  @ApiProperty({ maxLength: FILENAME_MAX }) filename!: string;
  @ApiProperty({ description: 'The whole file is there (every part, for a multipart file)' }) uploaded!: boolean;
  @ApiPropertyOptional({ type: [ResumePartStateDto], maxItems: MAX_PARTS }) parts?: ResumePartStateDto[];
}

export class ResumeUploadResponseDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ ...COUNT, description: "Seconds the new URLs stay valid; the upload's expiry was pushed to match" }) expiresIn!: number;
  @ApiProperty({ type: [ResumeFileStateDto], maxItems: MAX_FILES }) files!: ResumeFileStateDto[];
  @ApiProperty({ ...FILE_TARGETS, description: 'A target per file still missing something; a multipart target lists only its missing parts' }) targets!: unknown[];
}

export class CompleteUploadResponseDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ format: 'uuid' }) validationJobId!: string;
  @ApiProperty({ enum: ['queued'] }) status!: 'queued';
}

export class DatasetSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ maxLength: 200, example: 'luna-batch-7' }) name!: string;
  @ApiProperty({ enum: DatasetProfiles }) profile!: string;
  @ApiProperty({ enum: DATASET_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_FILES }) fileCount!: number;
  @ApiProperty(COUNT) totalBytes!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class DatasetListDto {
  @ApiProperty({ type: [DatasetSummaryDto], maxItems: 200 }) items!: DatasetSummaryDto[];
  @ApiProperty({ type: String, nullable: true, maxLength: 300 }) nextCursor!: string | null;
}

export class SameContentDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ format: 'uuid' }) fileId!: string;
  @ApiProperty({ maxLength: FILENAME_MAX }) filename!: string;
}

export class DatasetFileViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ maxLength: FILENAME_MAX }) filename!: string;
  @ApiProperty(COUNT) sizeBytes!: number;
  @ApiProperty({ maxLength: CONTENT_TYPE_MAX, example: 'image/png' }) contentType!: string;
  @ApiProperty({ type: String, nullable: true, pattern: '^[0-9a-fA-F]{64}$', maxLength: 64 }) sha256!: string | null;
  @ApiProperty({ type: String, nullable: true, maxLength: 64 }) md5!: string | null;
  @ApiProperty({ enum: ['pending', 'uploaded'] }) status!: string;
  @ApiProperty({ type: [SameContentDto], maxItems: MAX_FILES, description: "Other files of the team with the same SHA-256" }) sameContentAs!: SameContentDto[];
}

export class LatestJobDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time' }) queuedAt!: string;
}

export class DatasetDetailDto extends DatasetSummaryDto {
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty({ type: String, nullable: true, maxLength: 2000 }) description!: string | null;
  @ApiProperty({ type: 'object', properties: { edition: { type: 'string', enum: TeamsEditions } } }) options!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: [DatasetFileViewDto], maxItems: MAX_FILES }) files!: DatasetFileViewDto[];
  @ApiProperty({ type: LatestJobDto, nullable: true }) latestJob!: LatestJobDto | null;
}

export class DownloadLinkDto {
  @ApiProperty({ format: 'uri', maxLength: URL_MAX }) url!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class ValidationIssueDto {
  @ApiProperty({ enum: ['error', 'warning'] }) severity!: string;
  @ApiProperty({ maxLength: 100, example: 'PNG_BAD_SIGNATURE' }) code!: string;
  @ApiPropertyOptional({ maxLength: FILENAME_MAX }) file?: string;
  @ApiPropertyOptional({ maxLength: 1024, description: 'Where in the file' }) path?: string;
  @ApiProperty({ maxLength: ISSUE_MESSAGE_MAX }) message!: string;
}

export class ValidationProgressDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_FILES }) filesTotal!: number;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_FILES }) filesChecked!: number;
  @ApiProperty(COUNT) bytesTotal!: number;
  @ApiProperty(COUNT) bytesChecked!: number;
  @ApiProperty({ minimum: 0, maximum: 100 }) percent!: number;
}

export class IssueSummaryDto {
  @ApiProperty(COUNT) errors!: number;
  @ApiProperty(COUNT) warnings!: number;
}

export class ValidationStatusDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ type: ValidationProgressDto }) progress!: ValidationProgressDto;
  @ApiProperty({ format: 'date-time' }) queuedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
  @ApiProperty({ type: IssueSummaryDto }) summary!: IssueSummaryDto;
  @ApiProperty({ type: [ValidationIssueDto], maxItems: 1000, description: 'The first issues (VALIDATION_STATUS_ISSUES); all of them in the report' }) issues!: ValidationIssueDto[];
  @ApiPropertyOptional({ format: 'uri', maxLength: URL_MAX, description: 'The full report (presigned)' }) reportUrl?: string;
  @ApiPropertyOptional({ maxLength: ISSUE_MESSAGE_MAX, description: 'Why the system could not finish, when `status` is `error`' }) error?: string;
}

export class ValidationReportDto {
  @ApiProperty({ format: 'uuid' }) datasetId!: string;
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ type: IssueSummaryDto }) summary!: IssueSummaryDto;
  @ApiProperty({ type: [ValidationIssueDto], maxItems: 200 }) items!: ValidationIssueDto[];
  @ApiProperty({ type: String, nullable: true, maxLength: 300 }) nextCursor!: string | null;
}
