import { type DynamicModule, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ENV, Naming, type BaseEnv } from '@flotilla/config';
import { HealthRegistry } from '@flotilla/observability';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { dataSourceOptions, migrationTimeouts, serviceTimeouts, type PersistenceOptions, type PostgresTimeouts } from './data-source-options.js';
import { migrateSchema } from './schema-migrations.js';

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
 * Connects a service to its own Postgres schema, creates the schema and runs the
 * service's migrations at start (under an advisory lock, see {@link migrateSchema}),
 * and reports Postgres in readiness. Every connection carries the statement and
 * idle-in-transaction timeouts of the environment.
 */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    // Set by the options factory (which sees the environment), read by the data source factory (which does not).
    let migrationLimits: PostgresTimeouts | undefined;
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ENV, Naming],
          useFactory: (env: BaseEnv, naming: Naming) => {
            migrationLimits = migrationTimeouts(env);
            return {
              ...dataSourceOptions(env.DATABASE_URL, naming.schema(options.owner), options, serviceTimeouts(env)),
              retryAttempts: 10,
              retryDelay: 2000,
            };
          },
          // Retried by TypeOrmModule as a whole, migrations included, while Postgres is not there yet.
          dataSourceFactory: async (dsOptions?: DataSourceOptions) => {
            if (!dsOptions || !migrationLimits) throw new Error('no data source options');
            const { url, schema } = dsOptions as { url: string; schema: string };
            const ran = await migrateSchema(url, schema, options, migrationLimits);
            const ds = await new DataSource(dsOptions).initialize();
            new Logger('Persistence').log(ran.length ? `schema ${schema} migrated: ${ran.join(', ')}` : `schema ${schema} is up to date`);
            return ds;
          },
        }),
      ],
      providers: [PostgresHealth],
      exports: [TypeOrmModule],
    };
  }
}
