import { Logger } from '@nestjs/common';
import type { Naming } from '@flotilla/config';
import { EventTypes, type EventEnvelope, type ServiceHeartbeatData } from '@flotilla/contracts';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ackOn, QueueConsumer } from '../rabbit/queue-consumer.js';
import type { RabbitConnection } from '../rabbit/rabbit-connection.js';
import { topologyNames } from '../rabbit/topology.js';
import { decodeEnvelope, errorMessage } from '../rabbit/wire.js';

/** Handles one beat; a rejection drops it (the next beat follows). */
export type HeartbeatHandler = (envelope: EventEnvelope<ServiceHeartbeatData>) => Promise<void>;

/** Beats a queue keeps at most while nobody consumes it; the oldest go first. */
const MAX_QUEUED_BEATS = 10_000;
/** A queue without consumers this long is deleted by the broker (all it held would be stale anyway). */
const UNUSED_QUEUE_EXPIRES_MS = 3_600_000;
const PREFETCH = 32;

/**
 * Consumes `service.heartbeat` from a queue of its own, `<service>.heartbeats`, not the
 * service's event queue: beats expire (the publisher sets an expiration), and in the event
 * queue an expired beat would be dead-lettered into its DLQ. This queue has no
 * dead-letter exchange, so an expired beat simply vanishes, and no retries: a beat that
 * cannot be handled is dropped, since the next one says more. Replicas of the consuming
 * service share the queue.
 */
export class HeartbeatListener {
  private readonly logger = new Logger(HeartbeatListener.name);
  private readonly consumer: QueueConsumer;
  private failing = false;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    private readonly service: string,
    private readonly handler: HeartbeatHandler,
    prefetch = PREFETCH,
  ) {
    const names = topologyNames(naming, service);
    const queue = naming.amqp(`${service}.heartbeats`);
    this.consumer = new QueueConsumer(
      connection,
      {
        name: `heartbeats ${queue}`,
        queue,
        prefetch,
        declare: async (channel: ConfirmChannel) => {
          await channel.assertExchange(names.eventsExchange, 'topic', { durable: true });
          await channel.assertQueue(queue, {
            durable: true,
            arguments: { 'x-max-length': MAX_QUEUED_BEATS, 'x-overflow': 'drop-head', 'x-expires': UNUSED_QUEUE_EXPIRES_MS },
          });
          await channel.bindQueue(queue, names.eventsExchange, EventTypes.ServiceHeartbeat);
        },
        onMessage: (channel, message) => this.onMessage(channel, message),
      },
      this.logger,
    );
  }

  /** Declares the queue and consumes; then drops the heartbeat binding of the service's event queue, if an older version left one. */
  async start(): Promise<void> {
    await this.consumer.start();
    await this.unbindEventQueue();
  }

  /** Stops consuming, letting the beats in hand finish within `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    await this.consumer.stop(graceMs);
  }

  private async onMessage(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    try {
      const envelope = decodeEnvelope(message.content);
      if (envelope?.type === EventTypes.ServiceHeartbeat) await this.handler(envelope as EventEnvelope<ServiceHeartbeatData>);
      if (this.failing) this.logger.log('heartbeats are recorded again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`heartbeat dropped (and the following ones until they can be recorded): ${errorMessage(error)}`);
      this.failing = true;
    } finally {
      ackOn(channel, message);
    }
  }

  /** Best effort, on a channel of its own: a missing queue closes that channel, nothing else. */
  private async unbindEventQueue(): Promise<void> {
    const names = topologyNames(this.naming, this.service);
    const wrapper = this.connection.createChannel({ name: 'heartbeat unbind', confirm: false });
    try {
      if (await this.connection.waitForChannel(wrapper)) await wrapper.unbindQueue(names.eventsQueue, names.eventsExchange, EventTypes.ServiceHeartbeat);
    } catch {
      // No such queue or binding: nothing to undo.
    } finally {
      await wrapper.close().catch(() => undefined);
    }
  }
}
