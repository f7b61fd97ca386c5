import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { BaseEnv, ENV, Naming } from '@flotilla/config';
import { RpcError, type EventEnvelope } from '@flotilla/contracts';
import { correlationId } from '@flotilla/observability';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { InternalCaller } from './internal-caller.js';
import { RabbitConnection } from './rabbit-connection.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from './rabbit-options.js';
import { declareTopology, topologyNames } from './topology.js';
import { AmqpHeaders, errorMessage } from './wire.js';
import { sendSpan, SpanKind, traceHeaders } from '../trace-context.js';

/** How one event is sent, beyond the defaults (persistent, no expiry). */
export interface PublishOptions {
  /** The broker drops the message once it has waited this long in a queue (AMQP `expiration`). */
  expirationMs?: number;
  /** `false`: a transient message, not written to disk (a broker restart loses it). Default true. */
  persistent?: boolean;
}

/**
 * Publishes events to the `flotilla.events` topic exchange (routing key = type) as
 * persistent messages on a confirm channel: a publish resolves only once the broker
 * has taken responsibility for the message. Every event is signed by this service
 * (headers `x-signature`, `x-signer`; see {@link InternalCaller}) when it is sent, so an
 * outbox row relayed hours later is signed as well; consumers refuse unsigned events.
 */
@Injectable()
export class EventPublisher implements OnModuleInit {
  private readonly logger = new Logger(EventPublisher.name);
  private readonly exchange: string;
  private wrapper?: ChannelWrapper;
  private readonly signer: InternalCaller;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    @Inject(ENV) private readonly env: BaseEnv,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
  ) {
    this.exchange = topologyNames(naming, options.service).eventsExchange;
    this.signer = new InternalCaller(env.INTERNAL_TOKEN_SECRET, options.service);
  }

  /** Opens the confirm channel and declares the exchanges. */
  async onModuleInit(): Promise<void> {
    this.wrapper = this.connection.createChannel({
      name: 'event-publisher',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        await declareTopology(channel, this.naming, { service: this.options.service });
      },
    });
    await this.connection.waitForChannel(this.wrapper);
  }

  /**
   * Publishes `data` as a new event of `type` from this service, with a fresh id and
   * the current correlation id; resolves with the envelope once confirmed. Rejects
   * with `RpcError('UNAVAILABLE')` at once when the broker is not connected or when it
   * refuses the message, and with `RpcError('TIMEOUT')` when no confirm arrives within
   * `RPC_TIMEOUT_MS` (the message may still have been delivered; consumers dedupe by id).
   */
  async publish<T>(type: string, data: T, options: PublishOptions = {}): Promise<EventEnvelope<T>> {
    const envelope: EventEnvelope<T> = {
      id: randomUUID(),
      type,
      occurredAt: new Date().toISOString(),
      source: this.options.service,
      correlationId: correlationId(),
      data,
    };
    await this.publishTraced(envelope, options);
    return envelope;
  }

  /**
   * {@link publishEnvelope} in a PRODUCER span (a child of the active one, e.g. the outbox
   * relay's continuation of the trace that added the event), whose trace context the
   * message's headers carry.
   */
  publishTraced(envelope: EventEnvelope, options: PublishOptions = {}): Promise<void> {
    const attributes = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': envelope.type, 'messaging.message.id': envelope.id };
    return sendSpan(`publish ${envelope.type}`, SpanKind.PRODUCER, attributes, () => this.publishEnvelope(envelope, options));
  }

  /**
   * Publishes a ready-made envelope unchanged, for relays that must keep an event's
   * id across retries (outbox). Same confirmation and errors as {@link publish}.
   */
  async publishEnvelope(envelope: EventEnvelope, options: PublishOptions = {}): Promise<void> {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(envelope.type)) {
      throw new RangeError(`event type "${envelope.type}" is not a dotted routing key`);
    }
    const wrapper = this.wrapper;
    if (!wrapper || !this.connection.isConnected()) {
      throw new RpcError('UNAVAILABLE', `The message broker is not reachable; event ${envelope.type} was not published.`);
    }
    const content = Buffer.from(JSON.stringify(envelope));
    try {
      await wrapper.publish(this.exchange, envelope.type, content, {
        persistent: options.persistent ?? true,
        ...(options.expirationMs !== undefined ? { expiration: String(Math.max(0, Math.round(options.expirationMs))) } : {}),
        contentType: 'application/json',
        messageId: envelope.id,
        type: envelope.type,
        appId: envelope.source,
        timestamp: Math.floor(Date.parse(envelope.occurredAt) / 1000) || Math.floor(Date.now() / 1000),
        headers: { [AmqpHeaders.CorrelationId]: envelope.correlationId, ...this.signer.signEvent(envelope.id, envelope.type, content), ...traceHeaders() },
        // Also removes the message from the wrapper's buffer if the connection dropped meanwhile.
        timeout: this.env.RPC_TIMEOUT_MS,
      });
    } catch (error) {
      this.logger.warn(`event ${envelope.type} ${envelope.id} not confirmed: ${errorMessage(error)}`);
      if (error instanceof Error && error.message === 'timeout') {
        throw new RpcError('TIMEOUT', `Event ${envelope.type} was not confirmed within ${this.env.RPC_TIMEOUT_MS} ms.`);
      }
      throw new RpcError('UNAVAILABLE', `Event ${envelope.type} was not accepted by the broker.`);
    }
  }
}
