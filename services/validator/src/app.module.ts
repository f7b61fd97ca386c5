import { Module, type DynamicModule } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { RabbitModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import { StorageModule } from '@flotilla/storage';
import { JobsModule } from './jobs/jobs.module.js';
import { Validation1732600000000 } from './migrations/1732600000000-validation.js';
import { JobsPageIndex1733100000000 } from './migrations/1733100000000-jobs-page-index.js';
import { OutboxClaims1733400000000 } from './migrations/1733400000000-outbox-claims.js';
import { ValidatorEnv } from './validator.env.js';

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'validation', entities: [], migrations: [Validation1732600000000, JobsPageIndex1733100000000, OutboxClaims1733400000000] };

@Module({})
export class AppModule {
  /** The event queue's prefetch and attempts come from the environment, so the module is built from it. */
  static forRoot(env: ValidatorEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        FlotillaConfigModule.forRoot(ValidatorEnv),
        ObservabilityModule,
        PersistenceModule.forRoot(PERSISTENCE),
        RabbitModule.forRoot({
          service: 'validator',
          serve: 'validator',
          prefetch: env.VALIDATION_CONCURRENCY,
          maxAttempts: env.VALIDATION_MAX_ATTEMPTS,
          retryDelayMs: env.VALIDATION_RETRY_DELAY_MS,
        }),
        StorageModule.forRoot(),
        JobsModule,
      ],
    };
  }
}
