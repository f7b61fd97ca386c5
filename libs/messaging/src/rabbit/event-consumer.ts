import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BaseEnv, ENV, Naming } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import { acceptCorrelationId, MetricsService, runWithContext } from '@flotilla/observability';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Counter } from 'prom-client';
import { isDependencyUnavailable } from './dependency-errors.js';
import { InternalCaller } from './internal-caller.js';
import { ThrottledWarning } from './throttled-warning.js';
import { ackOn, publishConfirmed, QueueConsumer, rejectOn } from './queue-consumer.js';
import { RabbitConnection } from './rabbit-connection.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from './rabbit-options.js';
import { assertBindingKey, topicMatches } from './routing-key.js';
import { declareTopology, retryDelay, retryTier, topologyNames, type TopologyNames } from './topology.js';
import { copiedProperties, republishHeaders, retryCount } from './republish.js';
import { AmqpHeaders, decodeEnvelope, errorMessage } from './wire.js';
import { receiveSpan, SpanKind } from '../trace-context.js';

/**
 * Handles one event. Resolve only once its effects are committed: the message is
 * acked then. A rejection schedules a retry. Events arrive at least once, so a
 * handler must be idempotent (dedupe by `envelope.id`).
 */
export type EventHandler<T = unknown> = (envelope: EventEnvelope<T>) => Promise<void>;

/**
 * Thrown by a handler when retrying cannot help (a malformed payload, or a job that has
 * used up its own attempts): the event goes to the dead-letter queue at once, with this
 * error's message, where an operator can inspect and replay it.
 */
export class NonRetryableEventError extends Error {
  override readonly name = 'NonRetryableEventError';
}

interface Subscription {
  routingKeys: string[];
  handler: EventHandler;
}

/**
 * Consumes the service's own queue `<service>.events`, bound to the keys it
 * subscribes to. Each message is acked after its handlers resolved. On failure it
 * is republished to a retry queue with `x-retry-count` + 1 (and the error in
 * `x-last-error`), from where it comes back to this queue after 1, 2, 4, then 8 retry
 * delays (see {@link retryDelay}); after `maxAttempts` attempts it goes to `<service>.events.dlq` through
 * `flotilla.dlx` with the error in `x-error`, counted in `dead_letters_total{queue}`.
 * A failure because a dependency is not reachable is retried after one retry delay and
 * not counted, for as long as the outage lasts.
 * An event without the platform's signature (headers `x-signature`, `x-signer`, see
 * {@link InternalCaller}) reaches no handler: it goes straight to the dead-letter queue,
 * saying why, counted in `events_refused_total{queue,reason}` with a throttled warning.
 * Drains on shutdown like the RPC server.
 */
@Injectable()
export class EventConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventConsumer.name);
  private readonly subscriptions: Subscription[] = [];
  private readonly names: TopologyNames;
  private readonly deadLetters: Counter<'queue'>;
  private readonly handled: Counter<'queue' | 'outcome'>;
  private consumer?: QueueConsumer;
  private bootstrapped = false;
  private inspector?: ChannelWrapper;
  private readonly signatures: InternalCaller;
  private readonly refused: Counter<'queue' | 'reason'>;
  private readonly refusalWarning = new ThrottledWarning(this.logger);

  constructor(
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    metrics: MetricsService,
    @Inject(ENV) private readonly env: BaseEnv,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
  ) {
    this.names = topologyNames(naming, options.service);
    this.signatures = new InternalCaller(env.INTERNAL_TOKEN_SECRET, options.service);
    this.refused = metrics.counter({
      name: 'events_refused_total',
      help: 'Events dead-lettered unhandled because their signature was missing or not the platform\'s',
      labelNames: ['queue', 'reason'],
    });
    this.deadLetters = metrics.counter({
      name: 'dead_letters_total',
      help: 'Messages moved to a dead-letter queue, by the queue they failed in',
      labelNames: ['queue'],
    });
    this.handled = metrics.counter({
      name: 'events_handled_total',
      help: 'Event deliveries by queue and outcome (ok, retry, dead_letter, ignored)',
      labelNames: ['queue', 'outcome'],
    });
  }

  /** The queue this consumer reads. */
  get queue(): string {
    return this.names.eventsQueue;
  }

  /**
   * Subscribes `handler` to events whose type matches one of `routingKeys` (topic
   * wildcards `*`, `#` allowed) and binds the service queue to them. Call it before
   * bootstrap (e.g. in `onModuleInit`); later calls bind at once. Several
   * subscriptions share the one queue; an event matching several runs them in order,
   * and all again on retry.
   */
  async subscribe<T = unknown>(routingKeys: string[], handler: EventHandler<T>): Promise<void> {
    if (routingKeys.length === 0) throw new RangeError('subscribe needs at least one routing key');
    routingKeys.forEach(assertBindingKey);
    this.subscriptions.push({ routingKeys: [...routingKeys], handler: handler as EventHandler });
    if (this.consumer) await this.consumer.redeclare();
    else if (this.bootstrapped) await this.start();
  }

  /** True while events are being delivered to this consumer. */
  isConsuming(): boolean {
    return this.consumer?.isConsuming() ?? false;
  }

  /**
   * Messages waiting in the service's queue (ready, not yet delivered) and its
   * consumers, or `undefined` while the broker cannot be asked.
   */
  async depth(): Promise<{ messages: number; consumers: number } | undefined> {
    if (!this.consumer || !this.connection.isConnected()) return undefined;
    this.inspector ??= this.connection.createChannel({ name: `inspect ${this.queue}`, confirm: false });
    try {
      const { messageCount, consumerCount } = await this.inspector.checkQueue(this.queue);
      return { messages: messageCount, consumers: consumerCount };
    } catch {
      return undefined;
    }
  }

  /** True once something subscribed (and so consuming is expected). */
  hasSubscriptions(): boolean {
    return this.subscriptions.length > 0;
  }

  /** Declares the queues and starts consuming, if anything subscribed. */
  async onApplicationBootstrap(): Promise<void> {
    this.bootstrapped = true;
    if (this.subscriptions.length > 0) await this.start();
  }

  /** Stops taking events and finishes the ones in flight before the connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop(this.env.SHUTDOWN_GRACE_MS);
    await this.inspector?.close().catch(() => undefined);
  }

  private async start(): Promise<void> {
    if (this.consumer) return;
    const consumer = new QueueConsumer(
      this.connection,
      {
        name: `event-consumer ${this.queue}`,
        queue: this.queue,
        prefetch: this.options.prefetch,
        declare: async (channel) => {
          await declareTopology(channel, this.naming, {
            service: this.options.service,
            events: { routingKeys: this.subscriptions.flatMap((s) => s.routingKeys), retryDelayMs: this.options.retryDelayMs },
          });
        },
        onMessage: (channel, message) => this.onMessage(channel, message),
      },
      this.logger,
    );
    this.consumer = consumer;
    await consumer.start();
    const keys = [...new Set(this.subscriptions.flatMap((s) => s.routingKeys))].join(', ');
    this.logger.log(`consuming ${this.queue} (${keys})`);
  }

  private async onMessage(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const envelope = decodeEnvelope(message.content);
    if (!envelope) {
      // Retrying cannot fix a malformed message: straight to the DLQ, saying why.
      this.logger.error(`malformed event (message id ${String(message.properties.messageId)}) dead-lettered`);
      await this.refuse(channel, message, 'not an event envelope: the content is not JSON with id, type and data');
      return;
    }
    const forged = this.signatures.verifyEvent(message.properties.messageId, envelope.type, message.content, message.properties.headers);
    if (forged) {
      // Never silently dropped: an operator sees it among the dead letters, and a replay is refused again.
      this.refused.inc({ queue: this.queue, reason: forged.reason });
      const from = typeof message.properties.headers?.[AmqpHeaders.Signer] === 'string' ? ` signed as ${String(message.properties.headers[AmqpHeaders.Signer]).slice(0, 64)}` : '';
      this.refusalWarning.warn(forged.reason, `event ${envelope.type.slice(0, 200)}${from} refused and dead-lettered: ${forged.detail}`);
      await this.refuse(channel, message, `event signature refused: ${forged.detail}`);
      return;
    }
    const handlers = this.subscriptions
      .filter((s) => s.routingKeys.some((key) => topicMatches(key, envelope.type)))
      .map((s) => s.handler);
    if (handlers.length === 0) {
      // A binding left over from an older version of the service.
      this.logger.warn(`no subscription for ${envelope.type}; event ${envelope.id} acked unhandled`);
      ackOn(channel, message);
      this.handled.inc({ queue: this.queue, outcome: 'ignored' });
      return;
    }
    const context = { correlationId: acceptCorrelationId(envelope.correlationId) };
    // A CONSUMER span, child of the publisher's (headers `traceparent`/`tracestate`).
    const attributes = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': envelope.type, 'messaging.message.id': envelope.id };
    await runWithContext(context, () =>
      receiveSpan(`process ${envelope.type}`, SpanKind.CONSUMER, message.properties.headers, attributes, async () => {
        try {
          for (const handler of handlers) await handler(envelope);
        } catch (error) {
          await this.onFailure(channel, message, envelope, error);
          return;
        }
        ackOn(channel, message);
        this.handled.inc({ queue: this.queue, outcome: 'ok' });
      }),
    );
  }

  private async onFailure(channel: ConfirmChannel, message: ConsumeMessage, envelope: EventEnvelope, error: unknown): Promise<void> {
    const retries = retryCount(message.properties.headers);
    // A dependency that is down (the service's database, say) is no fault of the event: the
    // retry is not counted as an attempt, so an outage of any length dead-letters nothing.
    const waiting = isDependencyUnavailable(error) && !(error instanceof NonRetryableEventError);
    const attempt = waiting ? retries : retries + 1;
    const reason = errorMessage(error);
    const headers = republishHeaders(message);
    if (waiting || (attempt < this.options.maxAttempts && !(error instanceof NonRetryableEventError))) {
      // Waiting out an outage keeps the first tier, so the work resumes soon after the dependency is back.
      const retry = waiting ? 1 : attempt;
      const delayMs = retryDelay(this.options.retryDelayMs, retry);
      try {
        await publishConfirmed(channel, '', this.names.retryQueues[retryTier(retry)]!, message.content, {
          ...copiedProperties(message),
          headers: { ...headers, [AmqpHeaders.RetryCount]: attempt, [AmqpHeaders.LastError]: reason },
        });
      } catch (publishError) {
        this.logger.error(`event ${envelope.id} could not be scheduled for retry (${errorMessage(publishError)}); dead-lettering it`);
        this.deadLetter(channel, message, false);
        return;
      }
      ackOn(channel, message);
      this.handled.inc({ queue: this.queue, outcome: 'retry' });
      this.logger.warn(
        waiting
          ? `${envelope.type} ${envelope.id} waits for a dependency that is not reachable; retrying in ${delayMs} ms, not counted as an attempt: ${reason}`
          : `${envelope.type} ${envelope.id} failed (attempt ${attempt} of ${this.options.maxAttempts}), retrying in ${delayMs} ms: ${reason}`,
      );
      return;
    }
    // The copy carries the last error, which a plain nack could not add; nack stays the fallback.
    let copied = false;
    try {
      await publishConfirmed(channel, this.names.deadLetterExchange, this.names.deadLetterQueue, message.content, {
        ...copiedProperties(message),
        headers: {
          ...headers,
          [AmqpHeaders.RetryCount]: retries,
          [AmqpHeaders.Error]: reason,
          [AmqpHeaders.FailedAt]: new Date().toISOString(),
        },
      });
      copied = true;
    } catch (publishError) {
      this.logger.error(`event ${envelope.id} could not be copied to ${this.names.deadLetterQueue}: ${errorMessage(publishError)}`);
    }
    this.deadLetter(channel, message, copied);
    this.logger.error(`${envelope.type} ${envelope.id} failed ${attempt} time(s); moved to ${this.names.deadLetterQueue}: ${reason}`);
  }

  /** Sends a message no handler may see to the DLQ with `reason`, without retries. */
  private async refuse(channel: ConfirmChannel, message: ConsumeMessage, reason: string): Promise<void> {
    let copied = false;
    try {
      await publishConfirmed(channel, this.names.deadLetterExchange, this.names.deadLetterQueue, message.content, {
        ...copiedProperties(message),
        headers: { ...republishHeaders(message), [AmqpHeaders.Error]: reason, [AmqpHeaders.FailedAt]: new Date().toISOString() },
      });
      copied = true;
    } catch (publishError) {
      this.logger.error(`refused event could not be copied to ${this.names.deadLetterQueue}: ${errorMessage(publishError)}`);
    }
    this.deadLetter(channel, message, copied);
  }

  /** Settles a message that goes to the DLQ: ack when a copy is already there, otherwise reject into it. */
  private deadLetter(channel: ConfirmChannel, message: ConsumeMessage, copied: boolean): void {
    if (copied) ackOn(channel, message);
    else rejectOn(channel, message);
    this.deadLetters.inc({ queue: this.queue });
    this.handled.inc({ queue: this.queue, outcome: 'dead_letter' });
  }
}
