import { Module } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import { StorageModule } from '@flotilla/storage';
import { DatasetsModule } from './datasets/datasets.module.js';
import { Upload1732500000000 } from './migrations/1732500000000-upload.js';
import { UploadExpiryIndex1733100000000 } from './migrations/1733100000000-upload-expiry-index.js';
import { OutboxClaims1733400000000 } from './migrations/1733400000000-outbox-claims.js';
import { DatasetIntegrity1765100000000 } from './migrations/1765100000000-dataset-integrity.js';
import { TeamQuotas1765200000000 } from './migrations/1765200000000-team-quotas.js';
import { PartSize1765300000000 } from './migrations/1765300000000-part-size.js';
import { QuotasModule } from './quotas/quotas.module.js';
import { UploadEnv } from './upload.env.js';

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'upload', entities: [], migrations: [Upload1732500000000, UploadExpiryIndex1733100000000, OutboxClaims1733400000000, DatasetIntegrity1765100000000, TeamQuotas1765200000000, PartSize1765300000000] };

@Module({
  imports: [
    FlotillaConfigModule.forRoot(UploadEnv),
    ObservabilityModule,
    // Plain SQL: the writes are few, set-based and transactional with the outbox.
    PersistenceModule.forRoot(PERSISTENCE),
    RedisModule.forRoot({ connectionName: 'upload' }),
    RabbitModule.forRoot({ service: 'upload', serve: 'upload' }),
    StorageModule.forRoot(),
    QuotasModule,
    DatasetsModule,
  ],
})
export class AppModule {}
