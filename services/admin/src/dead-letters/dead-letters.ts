import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ENV, Naming } from '@flotilla/config';
import type { DeadLetter, DeadLetterPage, RpcActor } from '@flotilla/contracts';
import { declareDeadLetterQueues, RabbitConnection, REDIS } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';
import { AuditLog } from '../audit/audit-log.js';
import { DeadLetterCollector } from './collector.js';
import { DeadLetterDiscarder } from './discard.js';
import type { LetterFilter } from './filter.js';
import { DeadLetterQueries, type LetterQuery } from './queries.js';
import { DeadLetterReplayer } from './replay.js';
import { DeadLetterSender } from './sender.js';
import { deadLetterSources, sourceNames, type DeadLetterSources } from './sources.js';

/** How long a replay waits for the broker's confirm (or Redis' answer) before it counts as failed. */
export const REPLAY_SEND_TIMEOUT_MS = 10_000;
/**
 * A letter `replaying` for longer than this lost its sender and goes back to `dead`.
 * Well above {@link REPLAY_SEND_TIMEOUT_MS}, so a sender still at work is never overtaken.
 */
export const STALE_REPLAY_MS = 60_000;

/**
 * Dead letters of the whole platform in one list, a state machine per letter:
 * `dead` → (claimed) `replaying` → `replayed`, or back to `dead` when the send fails,
 * the replay is interrupted, or the replayed message dies again; `dead` → `discarded`.
 * Collected every `DEAD_LETTER_POLL_MS` (and before each list) from every consumer's
 * dead-letter queue and every `<stream>:dead` stream, derived from the topology.
 */
@Injectable()
export class DeadLetters implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeadLetters.name);
  private readonly sources: DeadLetterSources;
  private readonly queries: DeadLetterQueries;
  private readonly collector: DeadLetterCollector;
  private readonly replayer: DeadLetterReplayer;
  private readonly discarder: DeadLetterDiscarder;
  private channel?: ChannelWrapper;
  /** The channel's dead-letter queues are declared (again after each reconnect). */
  private declared = false;
  private stopListening?: () => void;
  private timer?: NodeJS.Timeout;
  private collecting?: Promise<void>;

  constructor(
    dataSource: DataSource,
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    audit: AuditLog,
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) private readonly env: AdminEnv,
  ) {
    this.sources = deadLetterSources(naming);
    this.queries = new DeadLetterQueries(dataSource);
    this.collector = new DeadLetterCollector(dataSource, redis, this.sources, STALE_REPLAY_MS, this.logger);
    const sender = new DeadLetterSender(() => this.usableChannel(), redis, REPLAY_SEND_TIMEOUT_MS);
    this.replayer = new DeadLetterReplayer(dataSource, sender, this.queries, audit, this.logger);
    this.discarder = new DeadLetterDiscarder(dataSource, this.queries, audit);
  }

  onApplicationBootstrap(): void {
    this.channel = this.connection.createChannel({
      name: 'dead-letters',
      confirm: true,
      // Every dead-letter queue exists from the start, so reading one never fails and none is missed.
      setup: async (channel: ConfirmChannel) => {
        await declareDeadLetterQueues(channel, this.naming);
        this.declared = true;
      },
    });
    this.stopListening = this.connection.onDisconnect(() => (this.declared = false));
    this.timer = setInterval(() => void this.collectSoon(), this.env.DEAD_LETTER_POLL_MS);
    this.timer.unref();
    void this.collectSoon();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopListening?.();
    await this.collecting;
    await this.channel?.close().catch(() => undefined);
  }

  /** Collects now (the console's list is then current); never rejects. */
  collectSoon(): Promise<void> {
    this.collecting ??= this.collector
      .collect(this.usableChannel())
      .catch((error: unknown) => this.logger.warn(`dead letters not collected: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  async list(query: LetterQuery): Promise<DeadLetterPage> {
    await this.collectSoon();
    return this.queries.page(query, sourceNames(this.sources));
  }

  count(): Promise<number> {
    return this.queries.countDead();
  }

  replay(id: string, actor: RpcActor): Promise<DeadLetter> {
    return this.replayer.replay(id, actor);
  }

  replayMany(filter: LetterFilter, dryRun: boolean, actor: RpcActor): ReturnType<DeadLetterReplayer['replayMany']> {
    return this.replayer.replayMany(filter, dryRun, actor);
  }

  discard(id: string, actor: RpcActor): Promise<DeadLetter> {
    return this.discarder.discard(id, actor);
  }

  discardMany(filter: LetterFilter, dryRun: boolean, actor: RpcActor): ReturnType<DeadLetterDiscarder['discardMany']> {
    return this.discarder.discardMany(filter, dryRun, actor);
  }

  /** The channel, once connected with its queues declared (reading a queue not declared would close it). */
  private usableChannel(): ChannelWrapper | undefined {
    return this.declared && this.connection.isConnected() ? this.channel : undefined;
  }
}
