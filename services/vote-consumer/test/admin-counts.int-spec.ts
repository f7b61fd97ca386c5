import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { VotesAdminRpc, VotesRpc, type RpcActor } from '@flotilla/contracts';
import { createRedisClient, RabbitModule, RpcClient, waitUntilReady } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { testEnv, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { VotesConsumer } from '../src/votes/votes.consumer.js';
import { addVotes, cleanUp, COLOURS, voteFlood, VotesDb, votesStream, type SentVote } from './votes-harness.js';

jest.setTimeout(120_000);

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

/** `votes.counts` over the bus, as the admin service calls it for its figures. */
describe('vote-consumer: votes.counts', () => {
  const ns = uniqueNamespace();
  const stream = votesStream(ns);
  const env = testEnv(ns, { VOTE_BLOCK_MS: '200' });
  const savedEnv = { ...process.env };
  let app: INestApplicationContext;
  let caller: INestApplicationContext;
  let rpc: RpcClient;
  let redis: Redis;
  let db: VotesDb;

  const counts = (actor?: RpcActor): Promise<{ total: number; polls: number }> =>
    rpc.call('votes', VotesAdminRpc.Counts, {}, actor ? { actor } : {});

  beforeAll(async () => {
    // AppModule reads process.env, as in production.
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    rpc = caller.get(RpcClient);
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'vote-consumer-counts-test' });
    await waitUntilReady(redis, 5000);
    db = await VotesDb.open(ns);
  });

  afterAll(async () => {
    await caller?.close();
    await app?.close();
    await db?.close();
    redis?.disconnect();
    await cleanUp(ns, [['vote-consumer', 'votes'], ['test-caller']]);
    process.env = savedEnv;
  });

  it('starts with the default poll and no votes', async () => {
    expect(await counts(ADMIN)).toEqual({ total: 0, polls: 1 });
  });

  it('counts every accepted vote (replaced ones too) and every poll, not the entries it refused', async () => {
    await rpc.call('votes', VotesRpc.CreatePoll, { id: 'colours', question: 'Colour?', options: [...COLOURS] }, { actor: ADMIN });
    // 20 voters, 3 votes each: 60 accepted votes, 20 ballots.
    const votes = voteFlood('colours', COLOURS, 20, 3);
    const refused: SentVote[] = [
      { voterId: randomUUID(), pollId: 'no-such-poll', option: 'red' },
      { voterId: randomUUID(), pollId: 'colours', option: 'purple' },
    ];
    await addVotes(redis, stream, [...votes.slice(0, 30), ...refused, ...votes.slice(30)]);
    await waitFor(
      async () => {
        const { lag, pending } = await app.get(VotesConsumer).lag();
        return lag === 0 && pending === 0;
      },
      { what: 'the votes to be committed', timeoutMs: 30_000 },
    );
    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events`)).toBe(62);
    expect(await db.scalar(`SELECT count(*) AS n FROM ballots`)).toBe(20);
    expect(await counts(ADMIN)).toEqual({ total: 60, polls: 2 });
    // A call on no user's behalf counts only from the admin service itself; another service and a member are refused.
    await expect(counts()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(counts(MEMBER)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
