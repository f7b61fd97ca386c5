import { Module } from '@nestjs/common';
import { Outbox } from '@flotilla/messaging';
import { DatasetReadsService } from './dataset-reads.service.js';
import { DatasetRecords } from './dataset-records.js';
import { DatasetRemovalService } from './dataset-removal.service.js';
import { DatasetsRpc } from './datasets.rpc.js';
import { UploadCompleteService } from './upload-complete.service.js';
import { StorageSweep } from './storage-sweep.js';
import { UploadSessions } from './upload-sessions.js';
import { UploadResumeService } from './upload-resume.service.js';
import { UploadStartService } from './upload-start.service.js';
import { ValidationEventsConsumer } from './validation-events.consumer.js';
import { ValidationVerdicts } from './validation-verdicts.js';

@Module({
  providers: [
    Outbox,
    UploadSessions,
    DatasetRecords,
    UploadStartService,
    UploadResumeService,
    UploadCompleteService,
    DatasetReadsService,
    DatasetRemovalService,
    ValidationVerdicts,
    StorageSweep,
    DatasetsRpc,
    ValidationEventsConsumer,
  ],
})
export class DatasetsModule {}
