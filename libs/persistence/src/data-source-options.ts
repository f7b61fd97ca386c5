import type { BaseEnv } from '@flotilla/config';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';

export interface PersistenceOptions {
  /** The owning service; its schema is `Naming.schema(owner)`. */
  owner: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Connections in the pool. */
  poolSize?: number;
}

/** Server-side limits every connection of a pool starts with; 0 is no limit. */
export interface PostgresTimeouts {
  /** `statement_timeout`: Postgres cancels a statement running longer. */
  statementMs: number;
  /** `idle_in_transaction_session_timeout`: Postgres ends a session idle in a transaction this long. */
  idleInTransactionMs: number;
}

/** The timeouts of a service's pool, from its environment. */
export function serviceTimeouts(env: BaseEnv): PostgresTimeouts {
  return { statementMs: env.DATABASE_STATEMENT_TIMEOUT_MS, idleInTransactionMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS };
}

/** The timeouts of a migration run: its own statement limit, since a migration may rewrite a large table. */
export function migrationTimeouts(env: BaseEnv): PostgresTimeouts {
  return { statementMs: env.DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS, idleInTransactionMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS };
}

/** How much longer than `statement_timeout` the client waits for an answer. */
export const QUERY_TIMEOUT_MARGIN_MS = 2000;

export function assertSchemaName(schema: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
}

/**
 * TypeORM options for a service's own schema. The pool's `search_path` is the schema,
 * so migrations and raw SQL name tables without qualifying them. Migrations are not
 * run by TypeORM here (it takes no lock, typeorm#4588): see `migrateSchema`.
 */
export function dataSourceOptions(databaseUrl: string, schema: string, options: PersistenceOptions, timeouts: PostgresTimeouts): DataSourceOptions {
  assertSchemaName(schema);
  return {
    type: 'postgres',
    url: databaseUrl,
    schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: ['error'],
    extra: {
      max: options.poolSize ?? 10,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 3000,
      // Startup parameters of every connection (node-postgres leaves out a 0, the server's "no limit").
      statement_timeout: timeouts.statementMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
      // The client's own bound: a server that hangs (stopped, not gone) cancels nothing, so
      // node-postgres gives up a little after the server would have ("Query read timeout",
      // which isDependencyUnavailable counts as an outage).
      ...(timeouts.statementMs > 0 ? { query_timeout: timeouts.statementMs + QUERY_TIMEOUT_MARGIN_MS } : {}),
    },
  };
}
