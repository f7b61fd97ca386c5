import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { BaseEnv, ENV, Naming } from '@flotilla/config';
import { RpcError, type RpcActor, type RpcService } from '@flotilla/contracts';
import { correlationId, MetricsService } from '@flotilla/observability';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage, Message } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Histogram } from 'prom-client';
import { RabbitConnection } from './rabbit-connection.js';
import { InternalCaller } from './internal-caller.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from './rabbit-options.js';
import { AmqpHeaders, decodeRpcReply, DIRECT_REPLY_TO, type RpcRequestMessage } from './wire.js';
import { sendSpan, SpanKind, traceHeaders } from '../trace-context.js';

export interface RpcCallOptions {
  /**
   * How long to wait for the reply; also the request's TTL on the broker and, as header
   * `x-deadline`, the time the server abandons it. Default `RPC_TIMEOUT_MS`.
   */
  timeoutMs?: number;
  /**
   * On whose behalf the call runs; the handler receives it in `meta.actor`. It travels in
   * the call's signed caller token; without it the token names this service calling on its own.
   */
  actor?: RpcActor;
}

interface PendingCall {
  resolve: (data: unknown) => void;
  reject: (error: RpcError) => void;
  timer: NodeJS.Timeout;
}

/**
 * Calls other services over RabbitMQ with direct reply-to: replies come back on the
 * pseudo-queue `amq.rabbitmq.reply-to`, consumed (no-ack) on the very channel that
 * publishes the requests, set up again on every reconnect. No reply queue per caller,
 * nothing to clean up.
 *
 * A call never waits for the broker: when it is not connected the call fails at once
 * with `UNAVAILABLE` (the gateway's 503) instead of sitting in a buffer. A call whose
 * target queue does not exist fails with `UNAVAILABLE` too (mandatory publish).
 *
 * Every request carries a caller token (header `x-caller-token`, see {@link InternalCaller})
 * minted for this call: the owner acts only on the caller it verifies there.
 */
@Injectable()
export class RpcClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RpcClient.name);
  private readonly pending = new Map<string, PendingCall>();
  private readonly duration: Histogram<'service' | 'pattern' | 'outcome'>;
  private wrapper?: ChannelWrapper;
  /** The raw channel whose reply consumer is running; requests must go out on it. */
  private channel?: Channel;
  private unsubscribe?: () => void;
  private readonly caller: InternalCaller;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    metrics: MetricsService,
    @Inject(ENV) private readonly env: BaseEnv,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
  ) {
    this.caller = new InternalCaller(env.INTERNAL_TOKEN_SECRET, options.service);
    this.duration = metrics.histogram({
      name: 'rpc_duration_seconds',
      help: 'RPC calls as the caller sees them, by target service, pattern and outcome (ok or the error code)',
      labelNames: ['service', 'pattern', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  /** Opens the channel and its reply consumer; waits for them while the broker is reachable. */
  async onModuleInit(): Promise<void> {
    // Replies are tied to the channel: when it or the connection goes, no pending reply can arrive.
    this.unsubscribe = this.connection.onDisconnect(() => this.dropChannel(undefined, 'the connection to the broker was lost'));
    this.wrapper = this.connection.createChannel({
      name: 'rpc-client',
      confirm: false,
      setup: (channel: Channel) => this.setup(channel),
    });
    await this.connection.waitForChannel(this.wrapper);
  }

  /**
   * Sends `payload` to `pattern` on `service`'s queue and resolves with the reply's
   * data. Rejects with an {@link RpcError}: the remote one as it was thrown, or
   * `UNAVAILABLE` (broker down, no such queue, connection lost while waiting) or
   * `TIMEOUT`. Records `rpc_duration_seconds{service,pattern,outcome}`.
   */
  async call<T>(service: RpcService, pattern: string, payload: unknown, options: RpcCallOptions = {}): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      // A CLIENT span around the call; the request's headers carry it to the server.
      const attributes = { 'rpc.system': 'flotilla-amqp', 'rpc.service': service, 'rpc.method': pattern };
      return (await sendSpan(`rpc ${service} ${pattern}`, SpanKind.CLIENT, attributes, () => this.send(service, pattern, payload, options))) as T;
    } catch (error) {
      outcome = error instanceof RpcError ? error.code.toLowerCase() : 'error';
      throw error;
    } finally {
      this.duration.observe({ service, pattern, outcome }, (performance.now() - started) / 1000);
    }
  }

  /** Fails the calls still waiting: their replies would arrive on a channel that is closing. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.dropChannel(undefined, 'the service is shutting down');
  }

  private send(service: RpcService, pattern: string, payload: unknown, options: RpcCallOptions): Promise<unknown> {
    const channel = this.channel;
    if (!channel || !this.connection.isConnected()) {
      return Promise.reject(new RpcError('UNAVAILABLE', `The message broker is not reachable; ${service} cannot be called.`));
    }
    const timeoutMs = options.timeoutMs ?? this.env.RPC_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) return Promise.reject(new RangeError(`timeoutMs must be a positive integer`));
    const request: RpcRequestMessage = { pattern, payload };
    const content = Buffer.from(JSON.stringify(request));
    const token = this.caller.mint(pattern, options.actor, timeoutMs, content);
    // Matches the reply to this call; unique per call, unlike the shared correlation id of the work.
    const requestId = randomUUID();
    // The server abandons the request at this time, when this call stops waiting for it.
    const deadline = Date.now() + timeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RpcError('TIMEOUT', `${service} did not answer ${pattern} within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      try {
        channel.publish('', this.naming.amqp(`${service}.rpc`), content, {
          correlationId: requestId,
          replyTo: DIRECT_REPLY_TO,
          // The broker drops the request once nobody waits for its answer any more.
          expiration: String(timeoutMs),
          mandatory: true,
          contentType: 'application/json',
          type: pattern,
          appId: this.options.service,
          timestamp: Math.floor(Date.now() / 1000),
          headers: { [AmqpHeaders.CorrelationId]: correlationId(), [AmqpHeaders.Deadline]: deadline, [AmqpHeaders.CallerToken]: token, ...traceHeaders() },
        });
      } catch (error) {
        // The channel closed between the check above and the write.
        this.settle(requestId)?.reject(
          new RpcError('UNAVAILABLE', `The request to ${service} could not be sent: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
    });
  }

  private async setup(channel: Channel): Promise<void> {
    channel.on('return', (message: Message) => this.onReturned(message));
    channel.once('close', () => this.dropChannel(channel, 'the channel to the broker closed'));
    await channel.consume(DIRECT_REPLY_TO, (message) => message && this.onReply(message), { noAck: true });
    this.channel = channel;
  }

  private onReply(message: ConsumeMessage): void {
    const call = this.settle(message.properties.correlationId);
    if (!call) {
      this.logger.debug(`reply for an unknown or timed-out call ${String(message.properties.correlationId)} ignored`);
      return;
    }
    const reply = decodeRpcReply(message.content);
    if (reply.ok) call.resolve(reply.data);
    else call.reject(RpcError.fromBody(reply.error));
  }

  /** A mandatory request no queue took: the target service has never declared its queue. */
  private onReturned(message: Message): void {
    this.settle(message.properties.correlationId)?.reject(
      new RpcError('UNAVAILABLE', `No service listens on ${message.fields.routingKey}.`),
    );
  }

  /** Removes a pending call and stops its timer; `undefined` when it already ended. */
  private settle(requestId: unknown): PendingCall | undefined {
    if (typeof requestId !== 'string') return undefined;
    const call = this.pending.get(requestId);
    if (!call) return undefined;
    this.pending.delete(requestId);
    clearTimeout(call.timer);
    return call;
  }

  /** Forgets `channel` (or whatever channel is current) and fails every call waiting on it. */
  private dropChannel(channel: Channel | undefined, reason: string): void {
    if (channel && this.channel !== channel) return;
    this.channel = undefined;
    for (const id of [...this.pending.keys()]) {
      this.settle(id)?.reject(new RpcError('UNAVAILABLE', `No reply: ${reason}.`));
    }
  }
}
