import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { isDependencyUnavailable } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PrivatePostgres, testEnv, uniqueNamespace } from '@flotilla/testing';
import { DataSource } from 'typeorm';
import { PersistenceModule, QUERY_TIMEOUT_MARGIN_MS } from '../src/index.js';

const STATEMENT_TIMEOUT_MS = 500;

/**
 * A Postgres that hangs (SIGSTOP) cancels no statement, so only the client can bound the
 * wait: a query gives up a little after the statement timeout with an error counted as
 * an outage (503 at the edge, waited out by consumers), and the pool works again once the
 * server runs. On a private cluster: the machine's server is never stopped.
 */
describe('Postgres that hangs', () => {
  const namespace = uniqueNamespace();
  const postgres = new PrivatePostgres();
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    await postgres.start();
    @Module({
      imports: [
        FlotillaConfigModule.forRoot(BaseEnv, testEnv(namespace, { DATABASE_URL: postgres.url, DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) })),
        ObservabilityModule,
        PersistenceModule.forRoot({ owner: 'hung', entities: [], migrations: [], poolSize: 2 }),
      ],
    })
    class TestModule {}
    app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
    dataSource = app.get(DataSource);
  }, 120_000);

  afterAll(async () => {
    postgres.resume();
    await app?.close();
    await postgres.remove();
  });

  it('hole 5: a query to a hung Postgres rejects as an outage instead of waiting for ever', async () => {
    expect(await dataSource.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    postgres.pause();
    let error: unknown;
    try {
      // Bounded by the test: without the client's limit this waits until SIGCONT.
      error = await Promise.race([
        dataSource.query(`SELECT 1 AS one`).then(() => 'answered', (e: unknown) => e),
        new Promise((resolve) => setTimeout(() => resolve('no answer'), (STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS) * 4)),
      ]);
    } finally {
      postgres.resume();
    }
    expect(error).toBeInstanceOf(Error);
    expect(isDependencyUnavailable(error)).toBe(true);
    // Back to work once the server runs again.
    expect(await dataSource.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });
});
