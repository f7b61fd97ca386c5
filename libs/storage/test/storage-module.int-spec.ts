import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FlotillaConfigModule } from '@flotilla/config';
import { HealthRegistry, ObservabilityModule } from '@flotilla/observability';
import { randomUUID } from 'node:crypto';
import {
  ObjectStorage,
  StorageEnv,
  StorageModule,
  StorageUnavailableError,
  startEmbeddedS3,
  type EmbeddedS3,
  type StorageModuleOptions,
} from '../src/index.js';

function start(env: Record<string, string>, options: StorageModuleOptions = {}): Promise<INestApplicationContext> {
  @Module({ imports: [FlotillaConfigModule.forRoot(StorageEnv, env), ObservabilityModule, StorageModule.forRoot(options)] })
  class ServiceModule {}
  return NestFactory.createApplicationContext(ServiceModule, {
    logger: process.env.TEST_LOG_LEVEL ? ['error', 'warn', 'log', 'debug'] : false,
    abortOnError: false,
  });
}

/** An endpoint where nothing listens: an embedded S3's address, after it stopped. */
async function deadEndpoint(): Promise<string> {
  const s3 = await startEmbeddedS3();
  await s3.close();
  return s3.endpoint;
}

describe('StorageModule', () => {
  let s3: EmbeddedS3;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
  });

  afterAll(() => s3.close());

  it('creates the bucket at start and reports it in readiness', async () => {
    const bucket = `module-${randomUUID().slice(0, 8)}`;
    const app = await start({ S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket });
    try {
      const listing = await (await fetch(`${s3.endpoint}/`)).text();
      expect(listing).toContain(`<Name>${bucket}</Name>`);
      const check = new Map(app.get(HealthRegistry).entries()).get('s3');
      expect(check).toBeDefined();
      await expect(check!()).resolves.toBeUndefined();
      // A second instance finds the bucket there.
      const again = await start({ S3_ENDPOINT: s3.endpoint, S3_BUCKET: bucket });
      await again.close();
    } finally {
      await app.close();
    }
  });

  it('fails start-up naming the endpoint and the bucket when S3 cannot be reached', async () => {
    const endpoint = await deadEndpoint();
    const started = Date.now();
    const error = await start({ S3_ENDPOINT: endpoint, S3_BUCKET: 'unreachable' }, { startupAttempts: 2, startupRetryDelayMs: 50 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'StorageStartupError' });
    expect((error as Error).message).toContain(`bucket unreachable at ${endpoint} is not usable after 2 attempt(s)`);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('ObjectStorage when S3 is down', () => {
  let storage: ObjectStorage;
  let endpoint: string;

  beforeAll(async () => {
    endpoint = await deadEndpoint();
    storage = new ObjectStorage(Object.assign(new StorageEnv(), { S3_ENDPOINT: endpoint }));
  });

  it.each([
    ['head', () => storage.head('a/b')],
    ['getStream', () => storage.getStream('a/b')],
    ['putObject', () => storage.putObject('a/b', 'x', 'text/plain')],
    ['deletePrefix', () => storage.deletePrefix('a/')],
    ['list', () => storage.list('a/')],
    ['createMultipartUpload', () => storage.createMultipartUpload('a/b', 'text/plain')],
    ['check', () => storage.check()],
  ])('%s throws StorageUnavailableError', async (_, call) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).name).toBe('StorageUnavailableError');
  });

  it('still signs URLs, which needs no request', async () => {
    const { url } = await storage.presignGet('a/b', { expiresInSeconds: 60 });
    expect(url.startsWith(`${endpoint}/flotilla/a/b?`)).toBe(true);
  });
});
