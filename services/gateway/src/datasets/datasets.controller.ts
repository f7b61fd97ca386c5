import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import {
  CompleteUploadDto,
  StartUploadDto,
  type CompleteUploadResponse,
  type DatasetDetail,
  type DatasetList,
  type DownloadLink,
  type ResumeUploadResponse,
  type StartUploadResponse,
  type ValidationReport,
} from '@flotilla/contracts';
import { PageQueryDto } from '../admin/dto/admin.dto.js';
import { DatasetsService } from './datasets.service.js';
import { Endpoint } from '../http/openapi/endpoint.js';
import {
  CompleteUploadResponseDto,
  DatasetDetailDto,
  DatasetListDto,
  DownloadLinkDto,
  MultipartTargetDto,
  ResumeUploadResponseDto,
  SinglePutTargetDto,
  StartUploadResponseDto,
  ValidationReportDto,
} from './dto/dataset-responses.dto.js';

@ApiTags('datasets')
@ApiExtraModels(SinglePutTargetDto, MultipartTargetDto)
@Controller()
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post('upload/start')
  @Endpoint({
    id: 'startUpload',
    summary: 'Start a dataset upload',
    description:
      "Declares the dataset's files and answers where to PUT each. 422 when the file list breaks a rule (names, sizes, counts, types), the team's quota is exceeded (each limit in `errors`) or the account has no team.",
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 422],
  })
  @ApiCreatedResponse({
    type: StartUploadResponseDto,
    description:
      'The dataset id and one presigned upload target per file (multipart above the threshold). Send every header of a target: when the file\'s sha256 was declared they include x-amz-checksum-sha256, and S3 refuses other bytes (docs/DATASETS-INTEGRITY.md)',
  })
  start(@Body() body: StartUploadDto, @CurrentUser() user: AuthUser): Promise<StartUploadResponse> {
    return this.datasets.start(body, user);
  }

  @Post('upload/complete')
  @HttpCode(202)
  @Endpoint({
    id: 'completeUpload',
    summary: 'Complete an upload',
    description:
      'Checks that every declared object is in the store as declared, fixes the files and queues their validation. 404 for an unknown dataset; 422 listing missing, mis-sized or changed objects, or when the upload expired.',
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 404, 409, 422],
  })
  @ApiOkResponse({ type: CompleteUploadResponseDto, description: 'The upload had been completed before: the same validation job' })
  @ApiAcceptedResponse({
    type: CompleteUploadResponseDto,
    description:
      'Validation queued, the files fixed: moved to keys no upload URL names, their ETags recorded, so a later PUT to an old URL changes nothing served or reported. 200 with the same job when the upload had been completed before; 422 listing missing, mis-sized or changed-during-completion objects, or when the upload expired and was cleared',
  })
  async complete(@Body() body: CompleteUploadDto, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: FastifyReply): Promise<CompleteUploadResponse> {
    const { created, ...result } = await this.datasets.complete(body, user);
    if (!created) void reply.status(200);
    return result;
  }

  @Get('datasets')
  @Endpoint({ id: 'listDatasets', summary: 'List datasets', description: "The caller's team's datasets, newest first, a page at a time (`cursor`, `limit`).", access: 'user', slow: true, problems: [403] })
  @ApiOkResponse({ type: DatasetListDto, description: "The caller's team's datasets, newest first" })
  list(@Query() query: PageQueryDto, @CurrentUser() user: AuthUser): Promise<DatasetList> {
    return this.datasets.list(user, query.cursor, query.limit);
  }

  @Get('datasets/:id')
  @Endpoint({ id: 'getDataset', summary: 'Get a dataset', description: "The dataset with its files and latest validation job; 404 when it is not one of the caller's team's.", access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({ type: DatasetDetailDto, description: 'The dataset with its files and latest validation job' })
  get(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<DatasetDetail> {
    return this.datasets.get(id, user);
  }

  @Get('datasets/:id/upload')
  @Endpoint({
    id: 'resumeUpload',
    summary: 'Resume an upload',
    description:
      "What the store holds of a pending upload and fresh targets for what is missing. 404 for no such dataset in the caller's team; 409 when it is no longer pending upload; 422 when the upload expired and was cleared (start a new upload).",
    access: 'user',
    slow: true,
    problems: [403, 404, 409, 422],
  })
  @ApiOkResponse({
    type: ResumeUploadResponseDto,
    description:
      "A pending upload's files as the store holds them (ListParts for multipart files, HEAD for the others: each part done or not, with its ETag) and fresh targets for exactly what is missing, also when the first URLs expired: the upload's expiry is pushed forward by the URL lifetime",
  })
  resume(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<ResumeUploadResponse> {
    return this.datasets.resume(id, user);
  }

  @Get('datasets/:id/report')
  @Endpoint({
    id: 'getValidationReport',
    summary: 'Validation report',
    description: "The latest validation's verdict and its issues, a page at a time; 404 for an unknown dataset or one never completed.",
    access: 'user',
    slow: true,
    problems: [403, 404],
  })
  @ApiOkResponse({ type: ValidationReportDto, description: "The latest validation's verdict and its issues, a page at a time (capped per code and in total, each capped code summed in one issue)" })
  report(@Param('id') id: string, @Query() query: PageQueryDto, @CurrentUser() user: AuthUser): Promise<ValidationReport> {
    return this.datasets.report(id, user, query.cursor, query.limit);
  }

  @Get('datasets/:id/files/:fileId/download')
  @Endpoint({
    id: 'downloadDatasetFile',
    summary: 'Download a file',
    description: 'A short-lived presigned GET URL of a validated file. 404 for an unknown dataset or file; 409 when the file was not uploaded or the kept object is no longer the one validated.',
    access: 'user',
    slow: true,
    problems: [403, 404, 409],
  })
  @ApiOkResponse({ type: DownloadLinkDto, description: 'A short-lived presigned GET URL of the object that was validated; 409 when the kept object is no longer the one whose ETag was recorded at completion' })
  download(@Param('id') id: string, @Param('fileId') fileId: string, @CurrentUser() user: AuthUser): Promise<DownloadLink> {
    return this.datasets.download(id, fileId, user);
  }

  @Delete('datasets/:id')
  @HttpCode(204)
  @Endpoint({ id: 'deleteDataset', summary: 'Delete a dataset', description: 'Removes its objects and rows and stops a running validation; 404 for an unknown dataset.', access: 'user', slow: true, problems: [403, 404, 409] })
  @ApiNoContentResponse({ description: 'Objects and rows removed; a running validation is stopped' })
  delete(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<void> {
    return this.datasets.delete(id, user);
  }
}
