import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ENV, Naming } from '@flotilla/config';
import { StreamGroups, Streams } from '@flotilla/contracts';
import { defaultConsumerName, REDIS, StreamConsumer, type StreamLag } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import type { VoteConsumerEnv } from '../vote-consumer.env.js';
import { VotesService } from './votes.service.js';

const LAG_REFRESH_MS = 5000;

/**
 * Reads the `votes` stream in group `vote-processors` with `VOTE_CONCURRENCY` consumers
 * and commits each batch through {@link VotesService}; entries are acknowledged only
 * after the commit. Starts at bootstrap; on shutdown stops reading and lets the batches
 * in hand commit and ack before Nest closes Redis and Postgres.
 */
@Injectable()
export class VotesConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(VotesConsumer.name);
  readonly consumers: StreamConsumer[];
  private readonly lagGauge;
  private readonly pendingGauge;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) env: VoteConsumerEnv,
    naming: Naming,
    votes: VotesService,
    metrics: MetricsService,
  ) {
    this.lagGauge = metrics.gauge({ name: 'vote_stream_lag', help: 'Votes in the stream not yet delivered to the vote-processors group' });
    this.pendingGauge = metrics.gauge({ name: 'vote_stream_pending', help: 'Votes delivered to a consumer but not yet committed and acknowledged' });
    const deadLetters = metrics.counter({
      name: 'dead_letters_total',
      help: 'Messages moved to a dead-letter queue, by the queue they failed in',
      labelNames: ['queue'],
    });
    const stream = naming.key(Streams.Votes);
    this.consumers = Array.from(
      { length: env.VOTE_CONCURRENCY },
      (_, i) =>
        new StreamConsumer({
          redis,
          stream,
          group: StreamGroups.VoteProcessors,
          consumer: `${defaultConsumerName()}-${i}`,
          batchSize: env.VOTE_BATCH_SIZE,
          blockMs: env.VOTE_BLOCK_MS,
          lingerMs: env.VOTE_LINGER_MS,
          claimIdleMs: env.VOTE_CLAIM_IDLE_MS,
          maxDeliveries: env.VOTE_MAX_DELIVERIES,
          // Trimming works for the whole group; one consumer doing it is enough.
          trimIntervalMs: i === 0 ? env.VOTE_TRIM_INTERVAL_MS : 0,
          handler: async (entries) => {
            await votes.record(entries);
          },
          onDeadLetter: () => deadLetters.inc({ queue: Streams.Votes }),
        }),
    );
  }

  /** The first consumer: it trims, and its lag and pending are the group's. */
  get consumer(): StreamConsumer {
    return this.consumers[0]!;
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.start()));
    this.lagTimer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    await this.refreshLag();
  }

  /** Drains: the batch in hand commits and is acknowledged; the rest stays in the stream for the next instance. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    await Promise.all(this.consumers.map((c) => c.stop()));
    const processed = this.consumers.reduce((sum, c) => sum + c.processed, 0);
    const deadLettered = this.consumers.reduce((sum, c) => sum + c.deadLettered, 0);
    this.logger.log(`stopped after ${processed} votes (${deadLettered} dead-lettered)`);
  }

  /** Lag and pending of the group; also what the metrics gauges show. */
  lag(): Promise<StreamLag> {
    return this.consumer.lag();
  }

  private async refreshLag(): Promise<void> {
    try {
      const { lag, pending } = await this.consumer.lag();
      this.lagGauge.set(lag);
      this.pendingGauge.set(pending);
    } catch (error) {
      this.logger.debug(`stream lag unknown: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
