import type { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { InFlight } from './in-flight.js';
import type { RabbitConnection } from './rabbit-connection.js';

export interface QueueConsumerOptions {
  /** Channel name in logs. */
  name: string;
  queue: string;
  prefetch: number;
  /** Declares what the queue needs; runs on every (re)connect before consuming. */
  declare: (channel: ConfirmChannel) => Promise<void>;
  /**
   * Handles one delivery and settles it on `channel` (the one it arrived on: a
   * delivery tag means nothing on another channel). It should not reject; if it does
   * anyway, the message is rejected without requeue (an event then dead-letters)
   * rather than holding a prefetch slot forever.
   */
  onMessage: (channel: ConfirmChannel, message: ConsumeMessage) => Promise<void>;
}

/**
 * A manually acknowledged consumer of one queue with an explicit prefetch, consuming
 * on a raw channel captured at set-up so acks always reach the channel the message
 * came from, even across reconnects. {@link stop} cancels, drains, then closes.
 */
export class QueueConsumer {
  private readonly inFlight = new InFlight();
  private wrapper?: ChannelWrapper;
  private active?: { channel: ConfirmChannel; consumerTag: string };
  private stopping = false;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly options: QueueConsumerOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Opens the channel, declares and starts consuming; resolves once consuming, or at
   * once when the broker is down (consuming then starts on reconnect). Rejects when
   * the declaration fails.
   */
  async start(): Promise<void> {
    if (this.wrapper) return;
    this.wrapper = this.connection.createChannel({
      name: this.options.name,
      confirm: true,
      setup: (channel: ConfirmChannel) => this.setup(channel),
    });
    await this.connection.waitForChannel(this.wrapper);
  }

  /** True while the broker delivers to this consumer. */
  isConsuming(): boolean {
    return this.active !== undefined;
  }

  /** Runs the declaration again on the current channel (new bindings while consuming). */
  async redeclare(): Promise<void> {
    if (this.active) await this.options.declare(this.active.channel);
  }

  /**
   * Stops taking messages (basic.cancel), waits up to `graceMs` for the ones in
   * flight to be handled and settled, then closes the channel; whatever is still
   * unacked then goes back to the queue for another instance.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const active = this.active;
    this.active = undefined;
    if (active) {
      await active.channel.cancel(active.consumerTag).catch((error: unknown) => {
        this.logger.warn(`${this.options.name}: cancel failed: ${String(error)}`);
      });
    }
    if (this.inFlight.size > 0) {
      this.logger.log(`${this.options.name}: waiting for ${this.inFlight.size} message(s) in flight`);
      if (!(await this.inFlight.drain(graceMs))) {
        this.logger.warn(`${this.options.name}: ${this.inFlight.size} message(s) still running after ${graceMs} ms; returning them to the queue`);
      }
    }
    await this.wrapper?.close().catch(() => undefined);
  }

  private async setup(channel: ConfirmChannel): Promise<void> {
    await this.options.declare(channel);
    if (this.stopping) return;
    await channel.prefetch(this.options.prefetch);
    const { consumerTag } = await channel.consume(
      this.options.queue,
      (message) => {
        if (message) this.dispatch(channel, message);
        else this.onCancelledByBroker(channel);
      },
      { noAck: false },
    );
    if (this.stopping) {
      // stop() ran while we were subscribing and could not see this consumer.
      await channel.cancel(consumerTag).catch(() => undefined);
      return;
    }
    this.active = { channel, consumerTag };
    channel.once('close', () => {
      if (this.active?.channel === channel) this.active = undefined;
    });
  }

  private dispatch(channel: ConfirmChannel, message: ConsumeMessage): void {
    this.inFlight
      .track(this.options.onMessage(channel, message))
      .catch((error: unknown) => {
        this.logger.error(`${this.options.name}: unhandled failure, message rejected: ${String(error)}`, (error as Error)?.stack);
        rejectOn(channel, message);
      });
  }

  /** The broker cancels a consumer when its queue is deleted; declare it again and resume. */
  private onCancelledByBroker(channel: ConfirmChannel): void {
    if (this.active?.channel === channel) this.active = undefined;
    if (this.stopping) return;
    this.logger.warn(`${this.options.name}: the broker cancelled the consumer of ${this.options.queue}; re-subscribing`);
    this.setup(channel).catch((error: unknown) =>
      this.logger.error(`${this.options.name}: could not re-subscribe: ${String(error)}`),
    );
  }
}

/** Acks on the channel the message came from; a closed channel already returned it to the queue. */
export function ackOn(channel: ConfirmChannel, message: Message): void {
  try {
    channel.ack(message);
  } catch {
    // Channel closed: the broker requeues the message, nothing left to settle.
  }
}

/** Rejects without requeue, so the queue's dead-letter exchange takes the message. */
export function rejectOn(channel: ConfirmChannel, message: Message): void {
  try {
    channel.nack(message, false, false);
  } catch {
    // Channel closed: the broker requeues the message, nothing left to settle.
  }
}

/** Publishes on a confirm channel and resolves once the broker confirmed it. */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Parameters<ConfirmChannel['publish']>[3],
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, content, options, (error: unknown) => {
        if (error) reject(error instanceof Error ? error : new Error(`broker rejected the message: ${String(error)}`));
        else resolve();
      });
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
