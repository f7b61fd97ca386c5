import { type DynamicModule, Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ENV, type BaseEnv } from '@flotilla/config';
import { HealthRegistry } from '@flotilla/observability';
import { StreamProducer } from '../streams/stream-producer.js';
import { createRedisClient, waitUntilReady } from './redis-client.js';
import { REDIS } from './redis.constants.js';

export interface RedisModuleOptions {
  /** Name of the connection in `CLIENT LIST`. Default `flotilla`. */
  connectionName?: string;
  /** Batch the commands of one event-loop turn into one write (see createRedisClient). */
  autoPipelining?: boolean;
  /**
   * How long start-up waits for the first connection before going on without it;
   * readiness reports `redis` down until it connects. Default 5000.
   */
  connectTimeoutMs?: number;
}

/** Reports Redis in readiness and closes the client last, after consumers have drained. */
@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register('redis', () => this.redis.ping());
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.redis.quit();
    } catch (error) {
      // Not connected: QUIT cannot be sent, so just drop the socket and the retry timer.
      this.logger.debug(`quit failed (${error instanceof Error ? error.message : String(error)}); disconnecting`);
      this.redis.disconnect();
    }
  }
}

/**
 * The service's Redis connection, global: provides the ioredis client as {@link REDIS}
 * (fail-fast, self-healing; see {@link createRedisClient}) and a {@link StreamProducer},
 * registers the `redis` readiness check (PING) and quits on application shutdown.
 */
@Global()
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions = {}): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS,
          inject: [ENV],
          useFactory: async (env: BaseEnv): Promise<Redis> => {
            const client = createRedisClient(env.REDIS_URL, {
              connectionName: options.connectionName ?? 'flotilla',
              autoPipelining: options.autoPipelining,
              commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
            });
            // Give the first connection a moment so the first requests after start do not
            // fail, but never block start-up on it: readiness tells the orchestrator.
            if (!(await waitUntilReady(client, options.connectTimeoutMs ?? 5000))) {
              new Logger('Redis').warn('not reachable at start; continuing, readiness reports redis down until it connects');
            }
            return client;
          },
        },
        RedisLifecycle,
        StreamProducer,
      ],
      exports: [REDIS, StreamProducer],
    };
  }
}
