import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ENV, BaseEnv, Naming } from '@flotilla/config';
import {
  AmqpConnectionManagerClass,
  type AmqpConnectionManager,
  type ChannelWrapper,
  type CreateChannelOpts,
} from 'amqp-connection-manager';
import { hostname } from 'node:os';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from './rabbit-options.js';

/** Seconds between AMQP heartbeats; a dead broker or network is noticed within about two of them. */
const HEARTBEAT_SECONDS = 10;
/** Seconds between reconnect attempts once the connection is lost. */
const RECONNECT_SECONDS = 2;

/** `amqp://user:secret@host:5672/vhost` → `host:5672/vhost`, so credentials never reach a log line. */
export function describeAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}${parsed.pathname}`;
  } catch {
    return '(unparsable AMQP_URL)';
  }
}

/**
 * The service's single connection to RabbitMQ (`env.AMQP_URL`), kept alive by
 * amqp-connection-manager: heartbeats, `noDelay` (Nagle off, or publisher confirms
 * crawl), reconnects with every channel re-set up. Connecting starts when the
 * provider is created; components wait for the first attempt through
 * {@link waitForChannel}.
 *
 * It closes in `onApplicationShutdown`, the last hook: consumers drain in
 * `beforeApplicationShutdown` and HTTP requests still in flight while the server
 * stops may still need RPC.
 */
@Injectable()
export class RabbitConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RabbitConnection.name);
  private readonly manager: AmqpConnectionManager;
  private readonly firstAttempt: Promise<void>;
  private readonly target: string;
  private failing = false;

  constructor(
    @Inject(ENV) env: BaseEnv,
    naming: Naming,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
  ) {
    this.target = describeAmqpUrl(env.AMQP_URL);
    this.manager = new AmqpConnectionManagerClass([env.AMQP_URL], {
      heartbeatIntervalInSeconds: HEARTBEAT_SECONDS,
      reconnectTimeInSeconds: RECONNECT_SECONDS,
      connectionOptions: {
        noDelay: true,
        // Bounds the TCP connect so close() never waits long on a black-holed broker.
        timeout: options.connectTimeoutMs,
        // Shown by the management UI and rabbitmqctl: which installation, service and host.
        clientProperties: { connection_name: `${naming.amqp(options.service)}@${hostname()}` },
      },
    });
    this.manager.on('connect', () => {
      this.failing = false;
      this.logger.log(`connected to RabbitMQ at ${this.target}`);
    });
    this.manager.on('disconnect', ({ err }) => {
      this.logger.warn(`disconnected from RabbitMQ at ${this.target}${err ? `: ${err.message}` : ''}`);
    });
    this.manager.on('connectFailed', ({ err }) => {
      // A broker that stays down would log every reconnect; say it once per outage.
      if (this.failing) return;
      this.failing = true;
      this.logger.warn(`cannot connect to RabbitMQ at ${this.target}: ${err.message}; retrying every ${RECONNECT_SECONDS}s`);
    });
    this.manager.on('blocked', ({ reason }) => this.logger.warn(`RabbitMQ blocked this connection: ${reason}`));
    this.manager.on('unblocked', () => this.logger.log('RabbitMQ unblocked this connection'));
    this.firstAttempt = this.manager.connect({ timeout: options.connectTimeoutMs }).catch((error: unknown) => {
      this.logger.warn(
        `RabbitMQ at ${this.target} not reachable at start-up (${error instanceof Error ? error.message : String(error)}); starting without it`,
      );
    });
  }

  /** True while a connection to the broker is open. */
  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /**
   * A channel that is re-created, and its `setup` re-run, after every reconnect.
   * Errors of the wrapper are logged here so an unhandled `'error'` event can never
   * crash the process.
   */
  createChannel(options: CreateChannelOpts): ChannelWrapper {
    const channel = this.manager.createChannel(options);
    channel.on('error', (error: Error) => {
      this.logger.error(`channel ${options.name ?? '(unnamed)'}: ${error.message}`, error.stack);
    });
    return channel;
  }

  /**
   * Waits for the first connection attempt and then for `channel`'s set-up.
   * Resolves `true` once the channel is usable, `false` when the broker is not
   * reachable (set-up then runs on reconnect); rejects when the set-up itself fails,
   * e.g. a queue redeclared with other arguments (`PRECONDITION_FAILED`).
   */
  async waitForChannel(channel: ChannelWrapper): Promise<boolean> {
    await this.firstAttempt;
    if (!this.isConnected()) return false;
    let timer: NodeJS.Timeout | undefined;
    let onError: ((error: Error) => void) | undefined;
    try {
      return await Promise.race([
        channel.waitForConnect().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), this.options.connectTimeoutMs);
        }),
        new Promise<boolean>((_, reject) => {
          onError = reject;
          channel.once('error', onError);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onError) channel.removeListener('error', onError);
    }
  }

  /** Calls `listener` each time the connection is lost; returns the unsubscribe function. */
  onDisconnect(listener: () => void): () => void {
    this.manager.on('disconnect', listener);
    return () => this.manager.removeListener('disconnect', listener);
  }

  /** Closes every channel, then the connection; reconnects stop. */
  async onApplicationShutdown(): Promise<void> {
    await this.manager.close();
    this.logger.log(`connection to RabbitMQ at ${this.target} closed`);
  }
}
