import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadEnv } from '@flotilla/config';
import { StorageEnv } from './storage.env.js';

describe('StorageEnv', () => {
  it('runs against the embedded S3 with no configuration', () => {
    const env = loadEnv(StorageEnv, {});
    expect(env).toMatchObject({
      S3_ENDPOINT: '',
      S3_PUBLIC_ENDPOINT: '',
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'flotilla',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: true,
    });
  });

  it('reads the path-style switch as a boolean', () => {
    expect(loadEnv(StorageEnv, { S3_FORCE_PATH_STYLE: 'false' }).S3_FORCE_PATH_STYLE).toBe(false);
    expect(loadEnv(StorageEnv, { S3_FORCE_PATH_STYLE: '1' }).S3_FORCE_PATH_STYLE).toBe(true);
    expect(() => loadEnv(StorageEnv, { S3_FORCE_PATH_STYLE: 'sometimes' })).toThrow(/S3_FORCE_PATH_STYLE must be true or false/);
  });

  it('names each bad variable', () => {
    let error: unknown;
    try {
      loadEnv(StorageEnv, { S3_ENDPOINT: 'minio:9000', S3_PUBLIC_ENDPOINT: 'ftp://files', S3_BUCKET: 'Flotilla_Data', S3_REGION: 'US East' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['S3_ENDPOINT', 'S3_PUBLIC_ENDPOINT', 'S3_BUCKET', 'S3_REGION']) expect(message).toContain(name);
  });

  /** A production environment whose other secrets are the installation's own, so only S3's are judged. */
  const PRODUCTION = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://flotilla:Vq3-own-db-pass@db:5432/flotilla',
    AMQP_URL: 'amqp://flotilla:Vq3-own-broker-pass@rabbitmq:5672',
    INTERNAL_TOKEN_SECRET: 'x'.repeat(40),
  };

  it('refuses the embedded S3 secret in production, and accepts a real one', () => {
    let said = '';
    try {
      loadEnv(StorageEnv, PRODUCTION);
    } catch (error) {
      said = (error as Error).message;
    }
    expect(said).toMatch(/S3_SECRET_ACCESS_KEY must be set to a non-default value when NODE_ENV=production/);
    expect(said).not.toMatch(/DATABASE_URL|AMQP_URL|INTERNAL_TOKEN_SECRET/);
    const env = loadEnv(StorageEnv, { ...PRODUCTION, S3_ACCESS_KEY_ID: 'AKIAEXAMPLE', S3_SECRET_ACCESS_KEY: 'a-real-secret' });
    expect(env.S3_SECRET_ACCESS_KEY).toBe('a-real-secret');
  });

  it('never shows the secret in its messages', () => {
    expect(() => loadEnv(StorageEnv, { ...PRODUCTION, S3_SECRET_ACCESS_KEY: 'S3RVER' })).toThrow(/\(got "\*\*\*"\)/);
  });
});
