import { Injectable, Module, type INestApplicationContext, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Channel } from 'amqplib';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BaseEnv, FlotillaConfigModule, type Naming } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import { AmqpHeaders, deadLetterToFields, EventConsumer, EventPublisher, RabbitModule, recordToFields, topologyNames } from '@flotilla/messaging';
import { MetricsService, ObservabilityModule } from '@flotilla/observability';

/** A routing key whose events always fail in the consumer {@link startFailingConsumer} starts. */
export const ALWAYS_FAILS = 'test.always-fails';

/**
 * An event envelope as the services publish it: JSON with id, type and data, the id
 * also being the message id.
 */
export function envelope(type: string, data: unknown = { n: randomUUID() }): EventEnvelope {
  return { id: randomUUID(), type, occurredAt: new Date().toISOString(), source: 'test', correlationId: randomUUID(), data };
}

/**
 * Puts `event` into `service`'s dead-letter queue as its EventConsumer does after the
 * last attempt: through the dead-letter exchange, with the error, attempt count and time.
 */
export async function deadLetterEvent(channel: Channel, naming: Naming, service: string, event: EventEnvelope, error: string, retries = 4): Promise<void> {
  const names = topologyNames(naming, service);
  channel.publish(names.deadLetterExchange, names.deadLetterQueue, Buffer.from(JSON.stringify(event)), {
    persistent: true,
    contentType: 'application/json',
    type: event.type,
    messageId: event.id,
    headers: { [AmqpHeaders.RetryCount]: retries, [AmqpHeaders.Error]: error, [AmqpHeaders.FailedAt]: new Date().toISOString() },
  });
}

/** Appends an entry to `<stream>:dead` as a StreamConsumer does when an entry ran out of deliveries. */
export async function deadLetterEntry(redis: Redis, stream: string, fields: Record<string, string>, error: string, group = 'test-group'): Promise<string> {
  const letter = deadLetterToFields({ stream, group, id: `${Date.now()}-${Math.floor(Math.random() * 1000)}`, fields, error, deliveries: 5, consumer: 'test-consumer', at: new Date().toISOString() });
  return (await redis.xadd(`${stream}:dead`, '*', ...recordToFields(letter))) as string;
}

/** The fields the gateway XADDs to `votes` for one vote. */
export function voteFields(): Record<string, string> {
  return {
    voteId: randomUUID(),
    pollId: randomUUID(),
    option: 'red',
    voterId: randomUUID(),
    ip: '192.0.2.10',
    userAgent: 'dead-letter-test/1.0',
    requestId: randomUUID(),
    at: new Date().toISOString(),
  };
}

export interface FailingConsumer {
  app: INestApplicationContext;
  publisher: EventPublisher;
  /** Handler calls so far. */
  calls(): number;
  /** Events this consumer moved to its dead-letter queue (its `dead_letters_total`). */
  deadLettered(): Promise<number>;
}

/**
 * `service`'s real EventConsumer (2 attempts, 50 ms retry delay) subscribed to
 * {@link ALWAYS_FAILS} with a handler that always throws, each time another error.
 */
export async function startFailingConsumer(env: Record<string, string>, service: string): Promise<FailingConsumer> {
  let calls = 0;

  @Injectable()
  class AlwaysFails implements OnModuleInit {
    constructor(private readonly events: EventConsumer) {}

    async onModuleInit(): Promise<void> {
      await this.events.subscribe([ALWAYS_FAILS], () => {
        calls += 1;
        return Promise.reject(new Error(`handler failure #${calls}`));
      });
    }
  }

  @Module({
    imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service, maxAttempts: 2, retryDelayMs: 50 })],
    providers: [AlwaysFails],
  })
  class FailingModule {}

  const app = await NestFactory.createApplicationContext(FailingModule, { logger: ['error'], abortOnError: false });
  await app.init();
  const metrics = app.get(MetricsService);
  return {
    app,
    publisher: app.get(EventPublisher),
    calls: () => calls,
    deadLettered: async () => {
      const metric = metrics.registry.getSingleMetric('dead_letters_total');
      const values = metric ? (await metric.get()).values : [];
      return values.reduce((sum, v) => sum + v.value, 0);
    },
  };
}
