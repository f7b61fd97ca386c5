import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import { HealthRegistry } from '@flotilla/observability';
import { ObjectStorage } from './object-storage.js';
import type { StorageEnv } from './storage.env.js';

const ATTEMPTS = 10;
const DELAY_MS = 1000;

/** Makes sure the bucket exists before the service takes work, and reports S3 in readiness. */
@Injectable()
class StorageBootstrap implements OnModuleInit {
  private readonly logger = new Logger('Storage');

  constructor(
    private readonly storage: ObjectStorage,
    private readonly health: HealthRegistry,
    @Inject(ENV) private readonly env: StorageEnv,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register('s3', () => this.storage.check());
    const where = `bucket ${this.env.S3_BUCKET} at ${this.env.S3_ENDPOINT || 'AWS S3'}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage.ensureBucket();
        this.logger.log(`${where} ready`);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) throw new Error(`object storage: ${where} is not usable after ${ATTEMPTS} attempts: ${(error as Error).message}`);
        this.logger.warn(`${where} not usable yet (attempt ${attempt}/${ATTEMPTS}): ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
      }
    }
  }
}

/** S3 for a service whose env class extends `StorageEnv`: {@link ObjectStorage}, the bucket, readiness `s3`. */
@Global()
@Module({})
export class StorageModule {
  static forRoot(): DynamicModule {
    return { module: StorageModule, providers: [ObjectStorage, StorageBootstrap], exports: [ObjectStorage] };
  }
}
