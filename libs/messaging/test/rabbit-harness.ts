import 'reflect-metadata';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { ObservabilityModule } from '@flotilla/observability';
import { testEnv, TEST_AMQP_URL } from '@flotilla/testing';
import amqp from 'amqplib';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { RabbitModule } from '../src/index.js';

/**
 * Starts a Nest application context like a service would have: config, observability
 * and RabbitMQ against the real broker, in the given namespace. `providers` run
 * before bootstrap, which is where services register handlers and subscriptions.
 */
export async function startService(
  namespace: string,
  options: Parameters<typeof RabbitModule.forRoot>[0],
  providers: Provider[] = [],
  env: Record<string, string> = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      FlotillaConfigModule.forRoot(BaseEnv, testEnv(namespace, { SHUTDOWN_GRACE_MS: '15000', ...env })),
      ObservabilityModule,
      RabbitModule.forRoot(options),
    ],
    providers,
  })
  class ServiceModule {}
  return NestFactory.createApplicationContext(ServiceModule, {
    logger: process.env.TEST_LOG_LEVEL ? ['error', 'warn', 'log', 'debug'] : false,
    abortOnError: false,
  });
}

/** A promise the test settles from outside. */
export interface Gate<T = void> {
  promise: Promise<T>;
  open: (value: T) => void;
}

export function gate<T = void>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A plain amqplib connection to look at queues the way an operator would. */
export class BrokerProbe {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async open(): Promise<BrokerProbe> {
    const connection = await amqp.connect(TEST_AMQP_URL);
    return new BrokerProbe(connection, await connection.createChannel());
  }

  /** Messages ready in `queue` (not counting unacked ones). */
  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes (and acks) every message now ready in `queue`. */
  async takeAll(queue: string): Promise<GetMessage[]> {
    const taken: GetMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (!message) return taken;
      taken.push(message);
    }
  }

  async publish(exchange: string, routingKey: string, content: Buffer): Promise<void> {
    this.channel.publish(exchange, routingKey, content, { persistent: true });
    // A round trip on the same channel: the publish above has reached the broker.
    await this.channel.checkExchange(exchange);
  }

  /** Sends `content` as-is to an RPC queue and resolves with the raw reply body. */
  async rawRpc(queue: string, content: Buffer, timeoutMs = 10_000): Promise<Buffer> {
    const channel = await this.connection.createChannel();
    let timer: NodeJS.Timeout | undefined;
    try {
      let received!: (body: Buffer) => void;
      const reply = new Promise<Buffer>((resolve, reject) => {
        received = resolve;
        timer = setTimeout(() => reject(new Error(`no reply from ${queue} within ${timeoutMs} ms`)), timeoutMs);
      });
      await channel.consume('amq.rabbitmq.reply-to', (message) => message && received(message.content), { noAck: true });
      channel.sendToQueue(queue, content, { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'raw', expiration: String(timeoutMs) });
      return await reply;
    } finally {
      clearTimeout(timer);
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
