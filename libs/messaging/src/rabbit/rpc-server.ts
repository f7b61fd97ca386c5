import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BaseEnv, ENV, Naming } from '@flotilla/config';
import { RpcError, type RpcActor, type RpcErrorBody, type RpcReply } from '@flotilla/contracts';
import { acceptCorrelationId, MetricsService, runWithContext } from '@flotilla/observability';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Counter, Histogram } from 'prom-client';
import { ackOn, QueueConsumer } from './queue-consumer.js';
import { RabbitConnection } from './rabbit-connection.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from './rabbit-options.js';
import { declareTopology, topologyNames } from './topology.js';
import { isDependencyUnavailable } from './dependency-errors.js';
import { CallerRefused, InternalCaller, type VerifiedCaller } from './internal-caller.js';
import { ThrottledWarning } from './throttled-warning.js';
import { PAST_DEADLINE, raceDeadline, requestDeadline } from './rpc-deadline.js';
import { AmqpHeaders, decodeRpcRequest, errorMessage } from './wire.js';
import { receiveSpan, SpanKind } from '../trace-context.js';

/** What a handler learns about the call besides its payload. */
export interface RpcRequestMeta {
  /** The caller's correlation id (header `x-correlation-id`), also in the log context. */
  correlationId: string;
  /** On whose behalf the call runs, from the verified caller token; absent when a service calls on its own. */
  actor?: RpcActor;
  /** The verified caller: the service that minted the token, and the user it acts for. */
  caller: VerifiedCaller;
  /**
   * Aborted when the caller's deadline passes: the server has stopped waiting for the
   * handler and will send no reply, so work still to do can be skipped.
   */
  signal: AbortSignal;
}

/**
 * Answers one RPC pattern. Its result is the reply's `data`; a thrown {@link RpcError}
 * reaches the caller as is, a dependency that cannot be reached (its database, say) as
 * UNAVAILABLE, anything else as INTERNAL with a generic message.
 */
export type RpcHandler = (payload: unknown, meta: RpcRequestMeta) => Promise<unknown>;

const GENERIC_INTERNAL_MESSAGE = 'An internal error occurred.';

/**
 * Serves the service's RPC queue `<serve>.rpc`: manual acks, explicit prefetch, one
 * reply per request to its `replyTo` carrying the request's `correlationId`.
 * Register handlers before bootstrap (e.g. in `onModuleInit`); consuming starts in
 * `onApplicationBootstrap` and stops in `beforeApplicationShutdown`, after the
 * requests in flight were answered (bounded by `SHUTDOWN_GRACE_MS`).
 *
 * Every request carries its caller's deadline (see {@link requestDeadline}). A request
 * already past it when taken off the queue is not run; a handler still running at it is
 * abandoned: nobody waits for its reply any more, so none is sent, and the request is
 * acked so its prefetch slot serves the next one instead of a handler that may never end.
 * Both are logged and counted in `rpc_server_abandoned_total{pattern,reason}`.
 *
 * No handler runs before the request's caller token (header `x-caller-token`, see
 * {@link InternalCaller}) is verified: a request without one, or with one signed by another
 * key, expired, or minted for another pattern or body, is answered `UNAUTHENTICATED` and acked
 * (retrying cannot make it valid), counted in `rpc_server_refused_total{reason}` and
 * logged with a throttled warning. `meta.actor` comes only from the verified token.
 */
@Injectable()
export class RpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RpcServer.name);
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly consumer: QueueConsumer;
  private readonly duration: Histogram<'pattern' | 'outcome'>;
  private readonly abandoned: Counter<'pattern' | 'reason'>;
  private readonly refused: Counter<'reason'>;
  private readonly caller: InternalCaller;
  private readonly refusalWarning = new ThrottledWarning(this.logger);
  readonly queue: string;
  private readonly slowHandlerWarnMs: number;
  private readonly defaultDeadlineMs: number;

  constructor(
    connection: RabbitConnection,
    naming: Naming,
    metrics: MetricsService,
    @Inject(ENV) private readonly env: BaseEnv,
    @Inject(RABBIT_OPTIONS) options: ResolvedRabbitOptions,
  ) {
    const serve = options.serve;
    if (!serve) throw new Error('RpcServer needs RabbitModule.forRoot({ serve })');
    this.queue = topologyNames(naming, options.service, serve).rpcQueue as string;
    this.slowHandlerWarnMs = options.slowHandlerWarnMs;
    this.defaultDeadlineMs = options.defaultDeadlineMs;
    this.caller = new InternalCaller(env.INTERNAL_TOKEN_SECRET, options.service);
    this.refused = metrics.counter({
      name: 'rpc_server_refused_total',
      help: 'RPC requests refused before any handler ran because their caller token was missing, foreign, expired or malformed',
      labelNames: ['reason'],
    });
    this.abandoned = metrics.counter({
      name: 'rpc_server_abandoned_total',
      help: 'RPC requests given up because their caller had stopped waiting: expired (before running) or deadline (while running)',
      labelNames: ['pattern', 'reason'],
    });
    this.duration = metrics.histogram({
      name: 'rpc_server_duration_seconds',
      help: 'Time to handle an RPC request, by pattern and outcome (ok or the error code)',
      labelNames: ['pattern', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.consumer = new QueueConsumer(
      connection,
      {
        name: `rpc-server ${this.queue}`,
        queue: this.queue,
        prefetch: options.prefetch,
        declare: async (channel) => {
          await declareTopology(channel, naming, { service: options.service, serve });
        },
        onMessage: (channel, message) => this.onMessage(channel, message),
      },
      this.logger,
    );
  }

  /** Registers the handler of `pattern`; a pattern has exactly one handler. */
  handle(pattern: string, handler: RpcHandler): void {
    if (this.handlers.has(pattern)) throw new Error(`RPC pattern ${pattern} already has a handler`);
    this.handlers.set(pattern, handler);
  }

  /** True while requests are being delivered to this server. */
  isConsuming(): boolean {
    return this.consumer.isConsuming();
  }

  /** Declares the queue and starts consuming (later, on reconnect, when the broker is down now). */
  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
    this.logger.log(`serving ${this.queue} (${this.handlers.size} pattern(s))`);
  }

  /** Stops taking requests and answers the ones in flight before the connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop(this.env.SHUTDOWN_GRACE_MS);
  }

  private async onMessage(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const receivedAt = Date.now();
    const correlationId = acceptCorrelationId(message.properties.headers?.[AmqpHeaders.CorrelationId]);
    const { replyTo, correlationId: requestId } = message.properties as { replyTo?: unknown; correlationId?: unknown };
    const deadline = requestDeadline(message.properties, receivedAt, this.defaultDeadlineMs);
    if (deadline <= receivedAt) {
      this.abandon(message, 'expired', correlationId, `its caller's deadline passed ${receivedAt - deadline} ms before it was taken`);
      ackOn(channel, message);
      return;
    }
    const expired = new AbortController();
    const reply = await raceDeadline(
      // A SERVER span, child of the caller's (headers `traceparent`/`tracestate`).
      runWithContext({ correlationId }, () =>
        receiveSpan(`rpc serve ${String(message.properties.type ?? 'unknown').slice(0, 200)}`, SpanKind.SERVER, message.properties.headers, { 'rpc.system': 'flotilla-amqp' }, () =>
          this.execute(message, correlationId, expired.signal),
        ),
      ),
      deadline - receivedAt,
    );
    if (reply === PAST_DEADLINE) {
      expired.abort();
      this.abandon(message, 'deadline', correlationId, `still running at its caller's deadline (${deadline - receivedAt} ms); no reply sent`);
      // Acked, not requeued: the caller has given up, so running it again helps nobody.
      ackOn(channel, message);
      return;
    }
    if (typeof replyTo === 'string' && replyTo.length > 0) {
      this.sendReply(channel, replyTo, typeof requestId === 'string' ? requestId : undefined, reply, correlationId);
    } else {
      this.logger.warn(`request without replyTo dropped (correlation ${correlationId})`);
    }
    // Acked after the reply: a crash in between redelivers the request rather than losing it.
    ackOn(channel, message);
  }

  /** Logs and counts a request given up; its pattern label is a registered one or `unknown` (the type is the caller's to choose). */
  private abandon(message: ConsumeMessage, reason: 'expired' | 'deadline', correlationId: string, why: string): void {
    const type = message.properties.type as unknown;
    const pattern = typeof type === 'string' && this.handlers.has(type) ? type : 'unknown';
    this.abandoned.inc({ pattern, reason });
    this.logger.warn(`${pattern} request abandoned: ${why} (correlation ${correlationId})`);
  }

  private async execute(message: ConsumeMessage, correlationId: string, signal: AbortSignal): Promise<RpcReply> {
    const started = performance.now();
    const request = decodeRpcRequest(message.content);
    if (typeof request === 'string') {
      this.duration.observe({ pattern: 'invalid', outcome: 'validation' }, (performance.now() - started) / 1000);
      return { ok: false, error: { code: 'VALIDATION', message: request } };
    }
    const caller = this.caller.verify(message.properties.headers?.[AmqpHeaders.CallerToken], request.pattern, message.content);
    if (caller instanceof CallerRefused) {
      this.refused.inc({ reason: caller.reason });
      this.duration.observe({ pattern: 'refused', outcome: 'unauthenticated' }, (performance.now() - started) / 1000);
      const from = typeof message.properties.appId === 'string' ? ` from ${message.properties.appId.slice(0, 64)}` : '';
      this.refusalWarning.warn(caller.reason, `request refused${from}: ${caller.detail} (correlation ${correlationId})`);
      return { ok: false, error: { code: 'UNAUTHENTICATED', message: 'The request carries no valid internal caller token.' } };
    }
    const handler = this.handlers.get(request.pattern);
    if (!handler) {
      this.duration.observe({ pattern: 'unknown', outcome: 'not_found' }, (performance.now() - started) / 1000);
      return { ok: false, error: { code: 'NOT_FOUND', message: `No handler for ${request.pattern}.` } };
    }
    let reply: RpcReply;
    const meta: RpcRequestMeta = { correlationId, signal, caller, ...(caller.actor ? { actor: caller.actor } : {}) };
    // The actor's user joins the log context of everything the handler does.
    const context = { correlationId, ...(caller.actor ? { userId: caller.actor.userId } : {}) };
    // A caller gives up after its timeout and sees only that; this says which handler was still busy.
    const slow = setTimeout(() => {
      this.logger.warn(`${request.pattern} still running after ${this.slowHandlerWarnMs} ms (correlation ${correlationId})`);
    }, this.slowHandlerWarnMs);
    slow.unref();
    try {
      const data = await runWithContext(context, () => handler(request.payload, meta));
      reply = { ok: true, data: data ?? null };
    } catch (error) {
      reply = { ok: false, error: this.toErrorBody(error, request.pattern) };
    } finally {
      clearTimeout(slow);
    }
    const outcome = reply.ok ? 'ok' : reply.error.code.toLowerCase();
    this.duration.observe({ pattern: request.pattern, outcome }, (performance.now() - started) / 1000);
    return reply;
  }

  private toErrorBody(error: unknown, pattern: string): RpcErrorBody {
    if (error instanceof RpcError) return error.toBody();
    // A dependency that is down is an expected condition (the gateway's 503), not a bug: no stack.
    if (isDependencyUnavailable(error)) {
      this.logger.warn(`${pattern} failed, a dependency is not reachable: ${errorMessage(error)}`);
      return { code: 'UNAVAILABLE', message: 'A dependency of this service is not reachable; try again shortly.' };
    }
    // Unexpected errors may carry internals (SQL, paths, secrets): log them, send a generic message.
    this.logger.error(`${pattern} failed: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
    return { code: 'INTERNAL', message: GENERIC_INTERNAL_MESSAGE };
  }

  private sendReply(channel: ConfirmChannel, replyTo: string, requestId: string | undefined, reply: RpcReply, correlationId: string): void {
    let content: Buffer;
    try {
      content = Buffer.from(JSON.stringify(reply));
    } catch (error) {
      this.logger.error(`reply could not be serialised: ${errorMessage(error)}`);
      content = Buffer.from(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: GENERIC_INTERNAL_MESSAGE } }));
    }
    try {
      channel.sendToQueue(replyTo, content, {
        correlationId: requestId,
        contentType: 'application/json',
        headers: { [AmqpHeaders.CorrelationId]: correlationId },
      });
    } catch (error) {
      // The channel closed: the request was not acked either, so it is redelivered.
      this.logger.warn(`reply to ${replyTo} not sent: ${errorMessage(error)}`);
    }
  }
}
