import { Global, Inject, Injectable, Module, Optional, type DynamicModule, type OnModuleInit, type Provider } from '@nestjs/common';
import { HealthRegistry } from '@flotilla/observability';
import { Heartbeat, HEARTBEAT_OPTIONS, type HeartbeatOptions } from '../heartbeat/heartbeat.js';
import { EventConsumer } from './event-consumer.js';
import { EventPublisher } from './event-publisher.js';
import { RabbitConnection } from './rabbit-connection.js';
import { RABBIT_OPTIONS, resolveRabbitOptions, type RabbitModuleOptions } from './rabbit-options.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

/** Registers readiness check `rabbitmq`: connected, and every started consumer consuming. */
@Injectable()
class RabbitHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthRegistry,
    private readonly connection: RabbitConnection,
    private readonly events: EventConsumer,
    @Optional() @Inject(RpcServer) private readonly server?: RpcServer,
  ) {}

  onModuleInit(): void {
    this.health.register('rabbitmq', async () => {
      if (!this.connection.isConnected()) throw new Error('not connected to RabbitMQ');
      if (this.server && !this.server.isConsuming()) throw new Error(`not consuming ${this.server.queue}`);
      if (this.events.hasSubscriptions() && !this.events.isConsuming()) throw new Error(`not consuming ${this.events.queue}`);
    });
  }
}

/**
 * RabbitMQ for one service: a connection, {@link RpcClient}, {@link EventPublisher},
 * {@link EventConsumer} and, with `serve`, {@link RpcServer} for `<serve>.rpc`; plus
 * readiness check `rabbitmq`, and the service's {@link Heartbeat} (`service.heartbeat`
 * every `heartbeat.intervalMs`). Global, so feature modules inject these directly.
 * Needs `FlotillaConfigModule` (ENV, Naming) and `ObservabilityModule` imported by the app.
 */
@Global()
@Module({})
export class RabbitModule {
  static forRoot(options: RabbitModuleOptions & { heartbeat?: HeartbeatOptions }): DynamicModule {
    const resolved = resolveRabbitOptions(options);
    const exported: Provider[] = [RabbitConnection, RpcClient, EventPublisher, EventConsumer, Heartbeat, ...(resolved.serve ? [RpcServer] : [])];
    return {
      module: RabbitModule,
      providers: [
        { provide: RABBIT_OPTIONS, useValue: resolved },
        { provide: HEARTBEAT_OPTIONS, useValue: options.heartbeat ?? {} },
        ...exported,
        RabbitHealth,
      ],
      exports: [RABBIT_OPTIONS, ...exported],
    };
  }
}
