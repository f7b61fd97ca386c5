import { Module } from '@nestjs/common';
import { Outbox } from '@flotilla/messaging';
import { DatasetsRpc } from './datasets.rpc.js';
import { DatasetsService } from './datasets.service.js';
import { UploadSessions } from './upload-sessions.js';
import { ValidationEventsConsumer } from './validation-events.consumer.js';

@Module({
  providers: [Outbox, UploadSessions, DatasetsService, DatasetsRpc, ValidationEventsConsumer],
})
export class DatasetsModule {}
