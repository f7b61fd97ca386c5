import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { DEFAULT_POLL, RpcError, StreamGroups, VotesRpc, type Poll, type PollList, type PollResults, type RpcActor } from '@flotilla/contracts';
import { createRedisClient, fieldsToRecord, RabbitModule, RpcClient, waitUntilReady } from '@flotilla/messaging';
import { MetricsService, ObservabilityModule } from '@flotilla/observability';
import { testEnv, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { PollsService } from '../src/polls/polls.service.js';
import { VotesConsumer } from '../src/votes/votes.consumer.js';
import { VotesService } from '../src/votes/votes.service.js';
import { addVotes, cleanUp, COLOURS, recount, voteFlood, VotesDb, votesStream, type SentVote } from './votes-harness.js';

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

describe('vote-consumer in process, against real Postgres, Redis and RabbitMQ', () => {
  const ns = uniqueNamespace();
  const stream = votesStream(ns);
  // Trimming on demand only, so the redelivery test can replay the whole stream. Batches of
  // 500, so the floods below take many.
  const env = testEnv(ns, { VOTE_BLOCK_MS: '200', VOTE_CLAIM_IDLE_MS: '1000', VOTE_TRIM_INTERVAL_MS: '3600000', VOTE_BATCH_SIZE: '500' });
  const savedEnv = { ...process.env };
  let app: INestApplicationContext;
  let caller: INestApplicationContext;
  let rpc: RpcClient;
  let redis: Redis;
  let db: VotesDb;

  const consumed = async (): Promise<boolean> => {
    const { lag, pending } = await app.get(VotesConsumer).lag();
    return lag === 0 && pending === 0;
  };
  const metric = async (name: string): Promise<number> =>
    (await app.get(MetricsService).registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);

  beforeAll(async () => {
    // AppModule reads process.env, as in production.
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'], abortOnError: false });

    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    rpc = caller.get(RpcClient);

    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'vote-consumer-test' });
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

  it('creates the default poll at start, once however often it starts', async () => {
    const list = await rpc.call<PollList>('votes', VotesRpc.ListPolls, {});
    expect(list.items).toEqual([expect.objectContaining({ id: DEFAULT_POLL.id, question: DEFAULT_POLL.question, options: ['cats', 'dogs'] })]);
    await app.get(PollsService).onModuleInit(); // what a second instance does at its start
    expect(await db.scalar(`SELECT count(*) AS n FROM polls`)).toBe(1);
    expect(await db.tallies(DEFAULT_POLL.id)).toEqual({ cats: 0, dogs: 0 });
  });

  it('serves polls over RPC with typed errors', async () => {
    const created = await rpc.call<Poll>('votes', VotesRpc.CreatePoll, { id: 'colours', question: 'Favourite colour?', options: [...COLOURS] }, { actor: ADMIN });
    expect(created).toMatchObject({ id: 'colours', question: 'Favourite colour?', options: [...COLOURS] });
    expect(await rpc.call<Poll>('votes', VotesRpc.GetPoll, { pollId: 'colours' })).toEqual(created);

    const again = { id: 'colours', question: 'Again?', options: ['a', 'b'] };
    await expect(rpc.call('votes', VotesRpc.CreatePoll, again, { actor: ADMIN })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(rpc.call('votes', VotesRpc.CreatePoll, { ...again, id: 'by-member' }, { actor: MEMBER })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rpc.call('votes', VotesRpc.GetPoll, { pollId: 'no-such-poll' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rpc.call('votes', VotesRpc.Results, { pollId: 'no-such-poll' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const invalid = await rpc.call('votes', VotesRpc.CreatePoll, { id: '-bad', question: '', options: ['only'], extra: 1 }, { actor: ADMIN }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(RpcError);
    expect((invalid as RpcError).code).toBe('VALIDATION');
    expect((invalid as RpcError).errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['id', 'question', 'options', 'extra']));
    await expect(rpc.call('votes', VotesRpc.GetPoll, { pollId: 42 })).rejects.toMatchObject({ code: 'VALIDATION' });

    const results = await rpc.call<PollResults>('votes', VotesRpc.Results, { pollId: 'colours' });
    expect(results).toMatchObject({ pollId: 'colours', total: 0, options: COLOURS.map((option) => ({ option, count: 0, percentage: 0 })) });
    expect(Number.isNaN(Date.parse(results.updatedAt))).toBe(false);
  });

  it('10,000 votes from 100 users: tallies equal the recount of each last vote and the ballots; strays are recorded, not counted', async () => {
    await app.get(PollsService).create({ id: 'flood', question: 'Colour?', options: [...COLOURS] });
    const votes = voteFlood('flood', COLOURS, 100, 100);
    const strays: SentVote[] = [
      { voterId: randomUUID(), pollId: 'no-such-poll', option: 'red' },
      { voterId: randomUUID(), pollId: 'flood', option: 'purple' },
    ];
    const started = Date.now();
    await addVotes(redis, stream, [...votes.slice(0, 5000), ...strays, ...votes.slice(5000)]);
    await waitFor(consumed, { timeoutMs: 60_000, intervalMs: 50, what: 'the votes to be committed' });
    const seconds = (Date.now() - started) / 1000;

    const expected = recount(votes, 'flood', COLOURS);
    // The flood is meant to move ballots around: the first votes would count differently.
    expect(recount(votes.slice(0, 100), 'flood', COLOURS)).not.toEqual(expected);
    const tallies = await db.tallies('flood');
    expect(tallies).toEqual(expected);
    expect(await db.ballots('flood', COLOURS)).toEqual(tallies);
    expect(Object.values(tallies).reduce((a, b) => a + b, 0)).toBe(100);
    const persisted = await db.scalar(`SELECT count(*) AS n FROM vote_events WHERE poll_id = 'flood' AND rejected_reason IS NULL`);
    expect(persisted).toBe(10_000);
    const rows = await db.rows<{ poll_id: string; rejected_reason: string }>(
      `SELECT poll_id, rejected_reason FROM vote_events WHERE rejected_reason IS NOT NULL ORDER BY rejected_reason DESC`,
    );
    expect(rows).toEqual([
      { poll_id: 'no-such-poll', rejected_reason: 'unknown poll' },
      { poll_id: 'flood', rejected_reason: 'unknown option' },
    ]);

    const results = await rpc.call<PollResults>('votes', VotesRpc.Results, { pollId: 'flood' });
    expect(results.total).toBe(100);
    expect(results.options.map(({ option, count }) => [option, count])).toEqual(COLOURS.map((o) => [o, expected[o]]));
    for (const o of results.options) expect(o.percentage).toBe(Math.round((o.count * 1000) / 100) / 10);
    expect(await metric('votes_persisted_total')).toBe(10_000);
    expect(await metric('vote_batches_total')).toBeGreaterThanOrEqual(20);

    console.log(`in process: votes sent ${votes.length + strays.length}, persisted ${persisted}, not counted ${rows.length}, ` +
      `duplicates 0; ${((votes.length + strays.length) / seconds).toFixed(0)} votes/s stream-to-commit; tallies ${JSON.stringify(tallies)}`);
  });

  it('counts an entry delivered again only once, and applies votes by stream id whatever the order', async () => {
    await app.get(PollsService).create({ id: 'again', question: 'Again?', options: [...COLOURS] });
    const votes = voteFlood('again', COLOURS, 50, 40);
    await addVotes(redis, stream, votes);
    await waitFor(consumed, { timeoutMs: 60_000, intervalMs: 50, what: 'the votes to be committed' });
    const tallies = await db.tallies('again');
    expect(tallies).toEqual(recount(votes, 'again', COLOURS));
    const events = await db.scalar(`SELECT count(*) AS n FROM vote_events`);
    const duplicatesBefore = await metric('votes_duplicates_total');

    // As after a crash between commit and ack: the group delivers the whole stream again.
    const length = await redis.xlen(stream);
    await redis.xgroup('SETID', stream, StreamGroups.VoteProcessors, '0');
    await waitFor(async () => (await metric('votes_duplicates_total')) - duplicatesBefore === length && (await consumed()), {
      timeoutMs: 60_000,
      what: 'the stream to be delivered again',
    });
    expect(await db.tallies('again')).toEqual(tallies);
    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events`)).toBe(events);
    expect(await db.tallies('flood')).toEqual(await db.ballots('flood', COLOURS));

    // The writer itself, handed a batch it has seen.
    const batch = (await redis.xrange(stream, '-', '+', 'COUNT', 500)).map(([id, flat]) => ({ id, fields: fieldsToRecord(flat) }));
    expect(await app.get(VotesService).record(batch)).toEqual({ received: 500, duplicates: 500, persisted: 0, rejected: 0, ballots: 0 });

    // A newer vote committed before an older one (two consumers, a reclaim): the newer stays.
    await app.get(PollsService).create({ id: 'order', question: 'Order?', options: [...COLOURS] });
    const voter = randomUUID();
    const entry = (id: string, option: string) => ({ id, fields: { pollId: 'order', voterId: voter, option, voteId: randomUUID() } });
    await app.get(VotesService).record([entry('10-0', 'red')]);
    await app.get(VotesService).record([entry('9-5', 'blue')]);
    expect(await db.tallies('order')).toEqual({ red: 1, green: 0, blue: 0, yellow: 0 });
    console.log(`redelivery: ${length} entries delivered again, all ${length} skipped as duplicates, tallies unchanged`);
  });

  it('one batch: the last vote of each voter counts, a switch moves the tally, every entry is audited once', async () => {
    const service = app.get(VotesService);
    await app.get(PollsService).create({ id: 'batch', question: 'Batch?', options: [...COLOURS] });
    const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
    const entry = (id: string, voterId: string, option: string, pollId = 'batch') => ({
      id,
      fields: { pollId, voterId, option, voteId: randomUUID(), at: '2026-11-23T09:00:00.000Z' },
    });
    const ballotOf = async (voterId: string) =>
      (await db.rows<{ option: string; stream_id: string }>(`SELECT option, stream_id FROM ballots WHERE poll_id = 'batch' AND voter_id = $1`, [voterId]))[0];
    const audited = (ids: string[]) => db.scalar(`SELECT count(*) AS n FROM vote_events WHERE stream_id = ANY($1::text[])`, [ids]);

    // Out of order within the batch, and compared as numbers ("99-50" is older than "100-10", "100-2" than "100-10").
    const first = [
      entry('100-2', alice, 'red'),
      entry('100-10', alice, 'blue'),
      entry('99-50', alice, 'green'),
      entry('100-3', bob, 'green'),
      entry('90-0', carol, 'yellow'),
      entry('100-0', carol, 'red'),
      entry('100-4', bob, 'purple'),
      entry('100-5', randomUUID(), 'red', 'no-such-poll'),
    ];
    expect(await service.record(first)).toEqual({ received: 8, duplicates: 0, persisted: 6, rejected: 2, ballots: 3 });
    expect(await db.tallies('batch')).toEqual({ red: 1, green: 1, blue: 1, yellow: 0 });
    expect(await ballotOf(alice)).toEqual({ option: 'blue', stream_id: '100-10' });
    expect(await ballotOf(bob)).toEqual({ option: 'green', stream_id: '100-3' });
    expect(await ballotOf(carol)).toEqual({ option: 'red', stream_id: '100-0' });
    expect(await audited(first.map((e) => e.id))).toBe(8);

    // Alice switches (within the batch too), Bob votes again for what he holds, Carol's vote is older than her ballot.
    const second = [entry('200-0', alice, 'green'), entry('200-1', alice, 'yellow'), entry('200-2', bob, 'green'), entry('50-0', carol, 'blue')];
    expect(await service.record(second)).toEqual({ received: 4, duplicates: 0, persisted: 4, rejected: 0, ballots: 2 });
    expect(await db.tallies('batch')).toEqual({ red: 1, green: 1, blue: 0, yellow: 1 });
    expect(await ballotOf(alice)).toEqual({ option: 'yellow', stream_id: '200-1' });
    expect(await ballotOf(bob)).toEqual({ option: 'green', stream_id: '200-2' });
    expect(await ballotOf(carol)).toEqual({ option: 'red', stream_id: '100-0' });

    // Delivered again, whole or mixed with new entries: only the new ones do anything.
    expect(await service.record(second)).toEqual({ received: 4, duplicates: 4, persisted: 0, rejected: 0, ballots: 0 });
    expect(await service.record(first)).toEqual({ received: 8, duplicates: 8, persisted: 0, rejected: 0, ballots: 0 });
    const mixed = [...second, entry('300-0', carol, 'blue'), ...first];
    expect(await service.record(mixed)).toEqual({ received: 13, duplicates: 12, persisted: 1, rejected: 0, ballots: 1 });
    expect(await db.tallies('batch')).toEqual({ red: 0, green: 1, blue: 1, yellow: 1 });
    expect(await db.ballots('batch', COLOURS)).toEqual(await db.tallies('batch'));
    expect(await audited(mixed.map((e) => e.id))).toBe(13);
    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events WHERE rejected_reason IS NOT NULL AND stream_id = ANY($1::text[])`, [mixed.map((e) => e.id)])).toBe(2);
  });

  it('trims the votes every group has acknowledged, nothing else', async () => {
    const consumer = app.get(VotesConsumer).consumer;
    await waitFor(consumed, { what: 'nothing pending' });
    const before = await redis.xlen(stream);
    const removed = await consumer.trim();
    expect(removed).toBe(before - 1);
    expect(await redis.xlen(stream)).toBe(1); // the last delivered entry marks the group's position
    expect(consumer.stats.trimmed).toBe(removed);
  });
});
