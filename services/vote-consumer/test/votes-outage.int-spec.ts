import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { createRedisClient, waitUntilReady } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { freePort, PostgresGate, testEnv, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { PollsService } from '../src/polls/polls.service.js';
import { VotesConsumer } from '../src/votes/votes.consumer.js';

import { addVotes, cleanUp, COLOURS, recount, voteFlood, VotesDb, votesStream } from './votes-harness.js';

/** The service's own Postgres connections go through a gate that the test shuts for longer than every retry budget. */
describe('vote-consumer through a Postgres outage', () => {
  const ns = uniqueNamespace();
  const stream = votesStream(ns);
  const claimIdleMs = 300;
  const maxDeliveries = 2;
  const savedEnv = { ...process.env };
  let gate: PostgresGate;
  let app: INestApplicationContext;
  let redis: Redis;
  let db: VotesDb;

  beforeAll(async () => {
    gate = new PostgresGate(await freePort());
    await gate.open();
    Object.assign(
      process.env,
      testEnv(ns, {
        DATABASE_URL: gate.url,
        VOTE_BLOCK_MS: '200',
        VOTE_BATCH_SIZE: '50',
        VOTE_CLAIM_IDLE_MS: String(claimIdleMs),
        VOTE_MAX_DELIVERIES: String(maxDeliveries),
      }),
    );
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'votes-outage-test' });
    await waitUntilReady(redis, 5000);
    db = await VotesDb.open(ns);
    await app.get(PollsService).create({ id: 'outage', question: 'Through an outage?', options: [...COLOURS] });
  });

  afterAll(async () => {
    await gate?.open().catch(() => undefined);
    await app?.close();
    await gate?.close();
    await db?.close();
    redis?.disconnect();
    await cleanUp(ns, [['vote-consumer', 'votes']]);
    process.env = savedEnv;
  });

  it('hole 1: votes accepted while Postgres is down for longer than claimIdleMs × maxDeliveries are all counted once, none dead-lettered', async () => {
    const failedBatches = async (): Promise<number> =>
      (await app.get(MetricsService).registry.getSingleMetric('vote_batches_total')!.get()).values.filter((v) => v.labels.outcome === 'failed').reduce((sum, v) => sum + v.value, 0);
    const votes = voteFlood('outage', COLOURS, 60, 5);
    await gate.close();
    const down = Date.now();
    await addVotes(redis, stream, votes.slice(0, 150));
    await waitFor(async () => (await failedBatches()) >= 3, { what: 'batches failing on the outage' });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await addVotes(redis, stream, votes.slice(150));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const outageMs = Date.now() - down;
    await gate.open();

    const consumed = async (): Promise<boolean> => {
      const { lag, pending } = await app.get(VotesConsumer).lag();
      return lag === 0 && pending === 0;
    };
    await waitFor(consumed, { timeoutMs: 30_000, what: 'the votes after the outage' });
    expect(outageMs).toBeGreaterThan(claimIdleMs * maxDeliveries * 5);
    expect(await redis.xlen(`${stream}:dead`)).toBe(0);
    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events WHERE poll_id = 'outage'`)).toBe(votes.length);
    expect(await db.tallies('outage')).toEqual(recount(votes, 'outage', COLOURS));
    expect(await db.tallies('outage')).toEqual(await db.ballots('outage', COLOURS));
    console.log(`outage of ${outageMs} ms: ${await failedBatches()} failed batches, ${votes.length} votes counted once, 0 dead letters`);
  });
});
