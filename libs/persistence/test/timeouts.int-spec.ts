import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { ObservabilityModule } from '@flotilla/observability';
import { dropSchemas, testEnv, uniqueNamespace } from '@flotilla/testing';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { PersistenceModule } from '../src/index.js';

const STATEMENT_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 300;

/** Longer than the statement timeout: runs only because migrations have their own limit. */
class SlowMigration1700000000001 implements MigrationInterface {
  name = 'SlowMigration1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pg_sleep(${(STATEMENT_TIMEOUT_MS * 3) / 1000})`);
    await q.query(`CREATE TABLE slow_done (id int PRIMARY KEY)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE slow_done`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('Postgres timeouts', () => {
  const namespace = uniqueNamespace();
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    @Module({
      imports: [
        FlotillaConfigModule.forRoot(
          BaseEnv,
          testEnv(namespace, {
            DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
            DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
          }),
        ),
        ObservabilityModule,
        PersistenceModule.forRoot({ owner: 'timeouts', entities: [], migrations: [SlowMigration1700000000001], poolSize: 3 }),
      ],
    })
    class TestModule {}
    app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await dropSchemas(namespace);
  });

  it('hole 5: a statement running longer than DATABASE_STATEMENT_TIMEOUT_MS is cancelled by Postgres', async () => {
    const error = await dataSource.query(`SELECT pg_sleep(5)`).then(
      () => undefined,
      (e: unknown) => e as { driverError?: { code?: string }; message: string },
    );
    expect(error?.driverError?.code).toBe('57014'); // query_canceled
    expect(error?.message).toMatch(/statement timeout/);
    // The pool is fine afterwards.
    expect(await dataSource.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });

  it('hole 5: a transaction left idle longer than DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS is ended by Postgres', async () => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ pid }] = (await runner.query(`SELECT pg_backend_pid() AS pid`)) as { pid: number }[];
      await sleep(IDLE_TIMEOUT_MS * 4);
      // The server ended that session, so its locks and snapshot are gone.
      const [{ alive }] = (await dataSource.query(`SELECT count(*)::int AS alive FROM pg_stat_activity WHERE pid = $1`, [pid])) as { alive: number }[];
      expect(alive).toBe(0);
      await expect(runner.query(`SELECT 1`)).rejects.toThrow();
    } finally {
      await runner.release().catch(() => undefined);
    }
  });

  it('hole 5: migrations run under their own, longer statement timeout', async () => {
    const [{ done }] = (await dataSource.query(`SELECT count(*)::int AS done FROM migrations WHERE name = 'SlowMigration1700000000001'`)) as { done: number }[];
    expect(done).toBe(1);
  });
});
