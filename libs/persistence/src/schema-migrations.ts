import { createLogger } from '@flotilla/observability';
import { Naming, type BaseEnv } from '@flotilla/config';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { assertSchemaName, dataSourceOptions, migrationTimeouts, type PersistenceOptions, type PostgresTimeouts } from './data-source-options.js';

/** Creates the schema if needed; TypeORM does not create the schema it runs migrations in. */
export async function ensureSchema(runner: { query(sql: string): Promise<unknown> }, schema: string): Promise<void> {
  assertSchemaName(schema);
  await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
}

/**
 * Creates `schema` and runs its pending migrations, holding a session-level
 * `pg_advisory_lock` keyed by the schema's name for the whole run, and returns the
 * names of the migrations this call applied. Replicas starting together queue on the
 * lock: the first migrates, the others then find nothing pending. TypeORM's own
 * `migrationsRun` takes no lock, and even `CREATE SCHEMA IF NOT EXISTS` fails when
 * two sessions create one schema at once. A run that dies releases the lock with its
 * session. Waiting for the lock has no time limit (a long migration of another replica
 * is worth waiting for); the migrations run under `timeouts`.
 */
export async function migrateSchema(databaseUrl: string, schema: string, options: PersistenceOptions, timeouts: PostgresTimeouts): Promise<string[]> {
  assertSchemaName(schema);
  const lock = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [`flotilla migrations ${schema}`]);
    await ensureSchema(lock, schema);
    // One connection is all a migration run uses.
    const dataSource = new DataSource(dataSourceOptions(databaseUrl, schema, { ...options, poolSize: 1 }, timeouts));
    await dataSource.initialize();
    try {
      return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    // Ending the session releases the lock too; unlock first so a waiter need not wait for the socket to close.
    await lock.query(`SELECT pg_advisory_unlock_all()`).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

/**
 * Runs a service's pending migrations in its schema (creating the schema first) and
 * returns their names: what a deployment's migration job does, with `MIGRATE_ONLY=true`.
 */
export async function runMigrations(env: BaseEnv, options: PersistenceOptions): Promise<string[]> {
  return migrateSchema(env.DATABASE_URL, new Naming(env.NAMESPACE).schema(options.owner), options, migrationTimeouts(env));
}

/**
 * With `MIGRATE_ONLY=true`, runs the migrations, reports them and resolves true (the
 * caller exits instead of starting); otherwise resolves false at once.
 */
export async function migrateOnlyIfAsked(env: BaseEnv, options: PersistenceOptions): Promise<boolean> {
  if (!env.MIGRATE_ONLY) return false;
  const ran = await runMigrations(env, options);
  createLogger(options.owner, env.LOG_LEVEL).info({ migrations: ran }, ran.length ? `schema ${options.owner} migrated: ${ran.join(', ')}` : `schema ${options.owner} is up to date`);
  return true;
}
