import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createRedisClient, fieldsToRecord, waitUntilReady } from '@flotilla/messaging';
import pg from 'pg';
import type { QueryRunner } from 'typeorm';
import { testEnv, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { Votes1732400000000 } from '../src/migrations/1732400000000-votes.js';
import { BallotsFillfactor1733200000000 } from '../src/migrations/1733200000000-ballots-fillfactor.js';
import { VoteIdentity1733500000000 } from '../src/migrations/1733500000000-vote-identity.js';
import { PollsService } from '../src/polls/polls.service.js';
import { VotesConsumer } from '../src/votes/votes.consumer.js';
import { cleanUp, COLOURS, VotesDb, votesStream } from './votes-harness.js';

/**
 * A vote is its `voteId`, ordered by the gateway's acceptance time (`at`), whatever stream
 * id it arrives under: the admin's replay of a dead letter XADDs its fields again, so the
 * same vote comes back with a new, newer stream id.
 */
describe('vote identity and order through replays', () => {
  const ns = uniqueNamespace();
  const stream = votesStream(ns);
  const env = testEnv(ns, { VOTE_BLOCK_MS: '200', VOTE_CLAIM_IDLE_MS: '1000', VOTE_BATCH_SIZE: '100' });
  const savedEnv = { ...process.env };
  let app: INestApplicationContext;
  let redis: Redis;
  let db: VotesDb;

  const consumed = async (): Promise<boolean> => {
    const { lag, pending } = await app.get(VotesConsumer).lag();
    return lag === 0 && pending === 0;
  };

  /** The fields the gateway writes for a vote accepted at `at`. */
  const vote = (voterId: string, option: string, at: string, pollId = 'replay'): Record<string, string> => ({
    voteId: randomUUID(), pollId, option, voterId, ip: '192.0.2.7', userAgent: 'identity-test/1', requestId: randomUUID(), at,
  });
  /** XADDs fields unchanged, as the gateway does first and the admin's replay does again. */
  const append = async (fields: Record<string, string>): Promise<string> => (await redis.xadd(stream, '*', ...Object.entries(fields).flat()))!;

  beforeAll(async () => {
    Object.assign(process.env, env);
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'], abortOnError: false });
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'vote-identity-test' });
    await waitUntilReady(redis, 5000);
    db = await VotesDb.open(ns);
    await app.get(PollsService).create({ id: 'replay', question: 'Replayed?', options: [...COLOURS] });
  });

  afterAll(async () => {
    await app?.close();
    await db?.close();
    redis?.disconnect();
    await cleanUp(ns, [['vote-consumer', 'votes']]);
    process.env = savedEnv;
  });

  it('hole 2: replaying an old vote after a newer one was counted keeps the newer ballot', async () => {
    const voter = randomUUID();
    const others = [randomUUID(), randomUUID()];
    const old = vote(voter, 'red', '2026-12-01T10:00:00.000Z');
    const newer = vote(voter, 'blue', '2026-12-01T10:00:05.000Z');
    await append(old);
    await append(vote(others[0]!, 'red', '2026-12-01T10:00:01.000Z'));
    await waitFor(consumed, { what: 'the old vote' });
    await append(newer);
    await append(vote(others[1]!, 'green', '2026-12-01T10:00:06.000Z'));
    await waitFor(consumed, { what: 'the newer vote' });

    // The old vote dead-lettered at some point and an operator replays it: same fields, new stream id.
    const replayedId = await append(old);
    await waitFor(consumed, { what: 'the replayed vote' });
    expect((await redis.xrange(stream, replayedId, replayedId)).map(([, flat]) => fieldsToRecord(flat).voteId)).toEqual([old.voteId]);

    const [ballot] = await db.rows<{ option: string; vote_id: string }>(`SELECT option, vote_id FROM ballots WHERE poll_id = 'replay' AND voter_id = $1`, [voter]);
    expect(ballot).toEqual({ option: 'blue', vote_id: newer.voteId });
    expect(await db.tallies('replay')).toEqual({ red: 1, green: 1, blue: 1, yellow: 0 });
    expect(await db.tallies('replay')).toEqual(await db.ballots('replay', COLOURS));
    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events WHERE vote_id = $1`, [old.voteId])).toBe(1);
  });

  it('hole 2: the same vote XADDed twice (committed but not acked, then replayed) is audited once and counted once', async () => {
    await app.get(PollsService).create({ id: 'twice', question: 'Twice?', options: [...COLOURS] });
    const voter = randomUUID();
    const once = vote(voter, 'yellow', '2026-12-01T11:00:00.000Z', 'twice');
    await append(once);
    await waitFor(consumed, { what: 'the vote' });
    await append(once);
    await append(vote(randomUUID(), 'yellow', '2026-12-01T11:00:01.000Z', 'twice'));
    await waitFor(consumed, { what: 'the vote again' });

    expect(await db.scalar(`SELECT count(*) AS n FROM vote_events WHERE vote_id = $1`, [once.voteId])).toBe(1);
    expect(await db.tallies('twice')).toEqual({ red: 0, green: 0, blue: 0, yellow: 2 });
    expect(await db.tallies('twice')).toEqual(await db.ballots('twice', COLOURS));
  });

  it('hole 2: two votes of one voter accepted in the same millisecond keep their order through a replay', async () => {
    await app.get(PollsService).create({ id: 'same-ms', question: 'Same ms?', options: [...COLOURS] });
    const voter = randomUUID();
    // The gateway's acceptance time has microseconds: two votes it accepted in one millisecond differ.
    const first = vote(voter, 'green', '2026-12-01T12:00:00.000001Z', 'same-ms');
    const second = vote(voter, 'red', '2026-12-01T12:00:00.000002Z', 'same-ms');
    await append(first);
    await append(second);
    await waitFor(consumed, { what: 'both votes' });
    await append(first);
    await waitFor(consumed, { what: 'the replay' });
    const [ballot] = await db.rows<{ option: string }>(`SELECT option FROM ballots WHERE poll_id = 'same-ms' AND voter_id = $1`, [voter]);
    expect(ballot).toEqual({ option: 'red' });
    expect(await db.tallies('same-ms')).toEqual({ red: 1, green: 0, blue: 0, yellow: 0 });
  });

  it('hole 2: the migration keys existing audit rows by vote id, drops their copies, and re-orders ballots and tallies by acceptance', async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    const schema = `${ns.replace(/[^a-z0-9_]/gi, '_')}_migration`;
    const runner = { query: (sql: string, params?: unknown[]) => client.query(sql, params).then((r) => r.rows) } as unknown as QueryRunner;
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await new Votes1732400000000().up(runner);
      await new BallotsFillfactor1733200000000().up(runner);
      await client.query(`INSERT INTO polls (id, question) VALUES ('old', 'Old?')`);
      await client.query(`INSERT INTO poll_options (poll_id, option, position) VALUES ('old', 'red', 0), ('old', 'blue', 1)`);
      const [voter, other] = [randomUUID(), randomUUID()];
      const [oldVote, newVote, otherVote] = [randomUUID(), randomUUID(), randomUUID()];
      // What the stream-id writer left after a replay: the old vote audited twice, its replay holding the ballot.
      await client.query(
        `INSERT INTO vote_events (stream_id, vote_id, poll_id, option, voter_id, at, recorded_at) VALUES
           ('100-0', $1, 'old', 'red', $3, '2026-12-01T10:00:00Z', '2026-12-01T10:00:01Z'),
           ('200-0', $2, 'old', 'blue', $3, '2026-12-01T10:00:05Z', '2026-12-01T10:00:06Z'),
           ('300-0', $1, 'old', 'red', $3, '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z'),
           ('150-0', $4, 'old', 'blue', $5, '2026-12-01T10:00:02Z', '2026-12-01T10:00:03Z'),
           ('160-0', NULL, 'old', 'red', $6, '2026-12-01T10:00:02Z', '2026-12-01T10:00:03Z')`,
        [oldVote, newVote, voter, otherVote, other, randomUUID()],
      );
      await client.query(
        `INSERT INTO ballots (poll_id, voter_id, option, stream_id, vote_id, voted_at) VALUES
           ('old', $1, 'red', '300-0', $2, '2026-12-01T10:00:00Z'), ('old', $3, 'blue', '150-0', $4, '2026-12-01T10:00:02Z')`,
        [voter, oldVote, other, otherVote],
      );
      await client.query(`INSERT INTO tallies (poll_id, option, count) VALUES ('old', 'red', 1), ('old', 'blue', 1)`);

      await new VoteIdentity1733500000000().up(runner);

      const audit = (await client.query(`SELECT stream_id FROM vote_events WHERE vote_id = $1`, [oldVote])).rows;
      expect(audit).toEqual([{ stream_id: '100-0' }]);
      expect(Number((await client.query(`SELECT count(*) AS n FROM vote_events`)).rows[0].n)).toBe(4);
      expect(Number((await client.query(`SELECT count(*) AS n FROM vote_events WHERE vote_id IS NULL`)).rows[0].n)).toBe(0);
      const ballot = (await client.query(`SELECT option, vote_id FROM ballots WHERE voter_id = $1`, [voter])).rows[0];
      expect(ballot).toEqual({ option: 'blue', vote_id: newVote });
      const tallies = (await client.query(`SELECT option, count::int AS n FROM tallies ORDER BY option`)).rows;
      expect(tallies).toEqual([{ option: 'blue', n: 2 }, { option: 'red', n: 0 }]);
      await expect(client.query(`INSERT INTO vote_events (stream_id, vote_id, at) VALUES ('400-0', $1, now())`, [oldVote])).rejects.toThrow(/duplicate key/);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
});
