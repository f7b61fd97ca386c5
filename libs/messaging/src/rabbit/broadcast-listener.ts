import { Logger } from '@nestjs/common';
import type { Naming } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { InternalCaller } from './internal-caller.js';
import { ackOn, QueueConsumer } from './queue-consumer.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { assertBindingKey } from './routing-key.js';
import { ThrottledWarning } from './throttled-warning.js';
import { topologyNames } from './topology.js';
import { decodeEnvelope, errorMessage } from './wire.js';

/** Handles one event in this process; a rejection is logged, and the event dropped. */
export type BroadcastHandler = (envelope: EventEnvelope) => void | Promise<void>;

/** Events a process's queue holds at most while it cannot keep up; the oldest go first. */
const MAX_QUEUED = 10_000;
const PREFETCH = 64;

/** The prefix of every broadcast queue of `service`; the broker's permissions allow `<prefix><uuid>`. */
export function broadcastQueuePrefix(naming: Naming, service: string): string {
  return naming.amqp(`${service}.broadcast.`);
}

/**
 * Every event of some types, to every instance of a service — where {@link EventConsumer}
 * gives each event to one instance of it. For what each process holds in memory (the
 * gateways' open event streams), not for work: each process has a queue of its own,
 * `<service>.broadcast.<uuid>`, exclusive to its connection and deleted with it. Nothing
 * is retried or dead-lettered; what arrives while the connection is down is lost, so a
 * listener must re-read the truth now and then (the streams do). Events must carry the
 * platform's signature like any other; a forged one is dropped with a warning.
 */
export class BroadcastListener {
  private readonly logger = new Logger(BroadcastListener.name);
  private readonly consumer: QueueConsumer;
  private readonly signatures: InternalCaller;
  private readonly refusals = new ThrottledWarning(this.logger);
  readonly queue: string;

  constructor(
    connection: RabbitConnection,
    naming: Naming,
    service: string,
    secret: string,
    routingKeys: readonly string[],
    private readonly handler: BroadcastHandler,
  ) {
    routingKeys.forEach(assertBindingKey);
    const exchange = topologyNames(naming, service).eventsExchange;
    this.queue = `${broadcastQueuePrefix(naming, service)}${randomUUID()}`;
    this.signatures = new InternalCaller(secret, service);
    this.consumer = new QueueConsumer(
      connection,
      {
        name: `broadcast ${this.queue}`,
        queue: this.queue,
        prefetch: PREFETCH,
        declare: async (channel: ConfirmChannel) => {
          await channel.assertExchange(exchange, 'topic', { durable: true });
          // Exclusive: declared again on each reconnect, as the broker deleted it with the old connection.
          await channel.assertQueue(this.queue, {
            exclusive: true,
            durable: false,
            autoDelete: true,
            arguments: { 'x-max-length': MAX_QUEUED, 'x-overflow': 'drop-head' },
          });
          for (const key of routingKeys) await channel.bindQueue(this.queue, exchange, key);
        },
        onMessage: (channel, message) => this.onMessage(channel, message),
      },
      this.logger,
    );
  }

  /** Declares the queue and consumes; resolves at once while the broker is down (consuming starts on reconnect). */
  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(graceMs: number): Promise<void> {
    return this.consumer.stop(graceMs);
  }

  private async onMessage(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    try {
      const envelope = decodeEnvelope(message.content);
      if (!envelope) return;
      const forged = this.signatures.verifyEvent(message.properties.messageId, envelope.type, message.content, message.properties.headers);
      if (forged) {
        this.refusals.warn(forged.reason, `broadcast event ${envelope.type.slice(0, 200)} dropped: ${forged.detail}`);
        return;
      }
      await this.handler(envelope);
    } catch (error) {
      this.logger.warn(`broadcast event dropped: ${errorMessage(error)}`);
    } finally {
      ackOn(channel, message);
    }
  }
}
