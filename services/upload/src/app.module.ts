import { Module } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule } from '@flotilla/persistence';
import { StorageModule } from '@flotilla/storage';
import { DatasetsModule } from './datasets/datasets.module.js';
import { Upload1732500000000 } from './migrations/1732500000000-upload.js';
import { UploadEnv } from './upload.env.js';

@Module({
  imports: [
    FlotillaConfigModule.forRoot(UploadEnv),
    ObservabilityModule,
    // Plain SQL: the writes are few, set-based and transactional with the outbox.
    PersistenceModule.forRoot({ owner: 'upload', entities: [], migrations: [Upload1732500000000] }),
    RedisModule.forRoot({ connectionName: 'upload' }),
    RabbitModule.forRoot({ service: 'upload', serve: 'upload' }),
    StorageModule.forRoot(),
    DatasetsModule,
  ],
})
export class AppModule {}
