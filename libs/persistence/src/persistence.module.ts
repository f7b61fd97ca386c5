import { type DynamicModule, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ENV, Naming, type BaseEnv } from '@flotilla/config';
import { createLogger, HealthRegistry } from '@flotilla/observability';
import pg from 'pg';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';

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

/** Creates the schema if needed; TypeORM does not create the schema it runs migrations in. */
export async function ensureSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

/**
 * TypeORM options for a service's own schema. The pool's `search_path` is the schema,
 * so migrations and raw SQL name tables without qualifying them.
 */
export function dataSourceOptions(databaseUrl: string, schema: string, options: PersistenceOptions): DataSourceOptions {
  if (!/^[a-z][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  return {
    type: 'postgres',
    url: databaseUrl,
    schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: ['error'],
    extra: {
      max: options.poolSize ?? 10,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 3000,
    },
  };
}

@Injectable()
class PostgresHealth implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register('postgres', () => this.dataSource.query('SELECT 1'));
  }
}

/**
 * Runs a service's pending migrations in its schema (creating the schema first) and
 * returns their names: what a deployment's migration job does, with `MIGRATE_ONLY=true`.
 */
export async function runMigrations(env: BaseEnv, options: PersistenceOptions): Promise<string[]> {
  const schema = new Naming(env.NAMESPACE).schema(options.owner);
  await ensureSchema(env.DATABASE_URL, schema);
  const dataSource = new DataSource({ ...dataSourceOptions(env.DATABASE_URL, schema, options), migrationsRun: false });
  await dataSource.initialize();
  try {
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
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

/**
 * Connects a service to its own Postgres schema, creates the schema and runs the
 * service's migrations at start, and reports Postgres in readiness.
 */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ENV, Naming],
          useFactory: (env: BaseEnv, naming: Naming) => ({
            ...dataSourceOptions(env.DATABASE_URL, naming.schema(options.owner), options),
            retryAttempts: 10,
            retryDelay: 2000,
          }),
          dataSourceFactory: async (dsOptions?: DataSourceOptions) => {
            if (!dsOptions) throw new Error('no data source options');
            const schema = (dsOptions as { schema: string }).schema;
            await ensureSchema((dsOptions as { url: string }).url, schema);
            const ds = await new DataSource(dsOptions).initialize();
            new Logger('Persistence').log(`schema ${schema} migrated`);
            return ds;
          },
        }),
      ],
      providers: [PostgresHealth],
      exports: [TypeOrmModule],
    };
  }
}


