import { Injectable, type OnModuleInit } from '@nestjs/common';
import { plainToInstance, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Min, validateSync, ValidateNested } from 'class-validator';
import { DatasetEvents, DatasetProfiles, type DatasetDeletedData, type DatasetUploadedData, type EventEnvelope } from '@flotilla/contracts';
import { EventConsumer, NonRetryableEventError } from '@flotilla/messaging';
import { ObjectStorage } from '@flotilla/storage';
import { JobStore } from './job-store.js';
import { StatusSnapshots } from './status-snapshots.js';
import { ValidationRunner } from './validation-runner.js';

class UploadedFileShape {
  @IsUUID() fileId: string;
  @IsString() filename: string;
  @IsString() contentType: string;
  @IsInt() @Min(0) sizeBytes: number;
  @IsOptional() @Matches(/^[0-9a-fA-F]{64}$/) sha256?: string;
  @IsString() key: string;
}

class DatasetUploadedShape {
  @IsUUID() datasetId: string;
  @IsUUID() jobId: string;
  @IsUUID() teamId: string;
  @IsIn(DatasetProfiles) profile: string;
  @IsObject() options: object;
  @IsString() queuedAt: string;
  @IsArray() @ArrayMaxSize(100_000) @ValidateNested({ each: true }) @Type(() => UploadedFileShape) files: UploadedFileShape[];
}

/**
 * The validator's event queue: `dataset.uploaded` starts a job, `dataset.deleted`
 * stops it and forgets the dataset. An event whose data is malformed cannot succeed
 * on a retry, so it is dead-lettered at once with what is wrong.
 */
@Injectable()
export class DatasetEventsConsumer implements OnModuleInit {
  constructor(
    private readonly events: EventConsumer,
    private readonly runner: ValidationRunner,
    private readonly jobs: JobStore,
    private readonly storage: ObjectStorage,
    private readonly snapshots: StatusSnapshots,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.subscribe<DatasetUploadedData>([DatasetEvents.Uploaded], (e) => this.runner.run(checked(e)));
    await this.events.subscribe<DatasetDeletedData>([DatasetEvents.Deleted], (e) => this.onDeleted(e.data));
  }

  private async onDeleted(data: DatasetDeletedData): Promise<void> {
    if (typeof data?.datasetId !== 'string') throw new NonRetryableEventError('dataset.deleted without a datasetId');
    this.runner.cancel(data.datasetId);
    await this.jobs.forgetDataset(data.datasetId);
    await this.snapshots.forget(data.datasetId);
    // A report written by a job that finished just before the deletion.
    await this.storage.deletePrefix(`reports/${data.datasetId}/`);
  }
}

function checked(envelope: EventEnvelope<DatasetUploadedData>): DatasetUploadedData {
  const errors = validateSync(plainToInstance(DatasetUploadedShape, envelope.data ?? {}));
  if (errors.length > 0) {
    const fields = errors.map((e) => e.property).join(', ');
    throw new NonRetryableEventError(`dataset.uploaded ${envelope.id} is malformed (${fields}); it cannot be validated`);
  }
  return envelope.data;
}
