import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import { HealthRegistry } from '@flotilla/observability';
import { ObjectStorage } from './object-storage.js';
import type { StorageEnv } from './storage.env.js';

export interface StorageModuleOptions {
  /** Tries at making sure the bucket exists before start-up fails. Default 10. */
  startupAttempts?: number;
  /** Pause between those tries. Default 1000 ms. */
  startupRetryDelayMs?: number;
}

const STORAGE_OPTIONS = Symbol('STORAGE_OPTIONS');

/** Thrown at start when the bucket cannot be reached or created; names the endpoint and the bucket. */
export class StorageStartupError extends Error {
  override readonly name = 'StorageStartupError';
}

/** Makes sure the bucket exists before the service takes work, and reports S3 in readiness. */
@Injectable()
class StorageBootstrap implements OnModuleInit {
  private readonly logger = new Logger('Storage');

  constructor(
    private readonly storage: ObjectStorage,
    private readonly health: HealthRegistry,
    @Inject(ENV) private readonly env: StorageEnv,
    @Inject(STORAGE_OPTIONS) private readonly options: StorageModuleOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register('s3', () => this.storage.check());
    const attempts = Math.max(1, this.options.startupAttempts ?? 10);
    const delayMs = this.options.startupRetryDelayMs ?? 1000;
    const where = `bucket ${this.env.S3_BUCKET} at ${this.env.S3_ENDPOINT || `AWS S3 (${this.env.S3_REGION})`}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await this.storage.ensureBucket();
        this.logger.log(`${where} ${created ? 'created' : 'ready'}`);
        return;
      } catch (error) {
        const reason = error instanceof Error ? error.message || error.name : String(error);
        if (attempt >= attempts) {
          throw new StorageStartupError(`object storage: ${where} is not usable after ${attempts} attempt(s): ${reason}`, { cause: error });
        }
        this.logger.warn(`${where} not usable yet (attempt ${attempt}/${attempts}): ${reason}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/**
 * Object storage for a service whose env class extends `StorageEnv`, global: provides
 * {@link ObjectStorage}; at start makes sure the bucket exists (retrying, then failing
 * start-up with {@link StorageStartupError}); registers `s3` (HEAD of the bucket) in
 * readiness. Needs `FlotillaConfigModule` and `ObservabilityModule`.
 */
@Global()
@Module({})
export class StorageModule {
  static forRoot(options: StorageModuleOptions = {}): DynamicModule {
    return {
      module: StorageModule,
      global: true,
      providers: [{ provide: STORAGE_OPTIONS, useValue: options }, ObjectStorage, StorageBootstrap],
      exports: [ObjectStorage],
    };
  }
}
