import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { VotesAdminRpc, VotesRpc, type RpcActor } from '@flotilla/contracts';
import { forgedCalls, rawBroker, type RawBroker, REFUSED, testEnv, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { cleanUp, VotesDb } from './votes-harness.js';

jest.setTimeout(120_000);

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

/**
 * The vote-consumer refuses RPCs that anything on the broker could send without the
 * services' key: a forged actor with a missing, foreign or expired caller token, and a
 * member's token on the admin patterns. (It consumes no RabbitMQ events; votes arrive on
 * a Redis stream, guarded by Redis authentication.)
 */
describe('vote-consumer: a caller the platform did not sign is refused', () => {
  const ns = uniqueNamespace();
  const savedEnv = { ...process.env };
  let app: INestApplicationContext;
  let broker: RawBroker;
  let db: VotesDb;

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns, { VOTE_BLOCK_MS: '200' }));
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    broker = await rawBroker(new Naming(ns));
    db = await VotesDb.open(ns);
  });

  afterAll(async () => {
    await broker?.close();
    await app?.close();
    await db?.close();
    await cleanUp(ns, [['vote-consumer', 'votes']]);
    process.env = savedEnv;
  });

  it('refuses a poll created with a forged actor: no token, a foreign key, an expired token, a member\'s token; no poll is written', async () => {
    const id = `forged-${randomUUID().slice(0, 8)}`;
    const codes = await forgedCalls(broker, 'votes', VotesRpc.CreatePoll, { id, question: 'Forged?', options: ['yes', 'no'] }, ADMIN, MEMBER);
    expect(codes).toEqual(REFUSED);
    expect(await db.scalar(`SELECT count(*) AS n FROM polls WHERE id = $1`, [id])).toBe(0);
  });

  it('refuses the vote counts and the poll list without a valid token', async () => {
    expect(await forgedCalls(broker, 'votes', VotesAdminRpc.Counts, {}, ADMIN, MEMBER)).toEqual(REFUSED);
    const list = await forgedCalls(broker, 'votes', VotesRpc.ListPolls, {}, ADMIN, MEMBER);
    // A member may list polls; the three without a valid token may not.
    expect(list).toEqual({ ...REFUSED, member: 'ok' });
  });
});
