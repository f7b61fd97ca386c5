import 'reflect-metadata';
import { afterAll, beforeAll } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import { AdminRpc, RpcError, type DeadLetter, type DeadLetterPage, type RpcActor } from '@flotilla/contracts';
import { declareTopology, PLATFORM_SERVICES, RabbitModule, RpcClient, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { startFailingConsumer, type FailingConsumer } from './dead-letters-harness.js';

export const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };

/** Services whose event queues the tests declare as their EventConsumer would; nothing consumes them. */
export const IDLE_CONSUMERS = ['validator', 'provisioner'] as const;

export interface AdminUnderTest {
  naming: Naming;
  /** The admin's schema. */
  schema: string;
  rpc: RpcClient;
  failing: FailingConsumer;
  channel: ConfirmChannel;
  redis: Redis;
  db: pg.Client;
  /** An admin pattern called as an administrator. */
  call<T>(pattern: string, payload: unknown): Promise<T>;
  page(query?: Record<string, unknown>): Promise<DeadLetterPage>;
  /** Every letter, through all pages (each list call collects first). */
  all(query?: Record<string, unknown>): Promise<DeadLetter[]>;
  messageCount(queue: string): Promise<number>;
}

/**
 * Two replicas of the admin service in process against real Postgres, Redis and RabbitMQ
 * in a namespace of its own; an RPC caller as the gateway calls it; `upload`'s EventConsumer with a
 * handler that always fails; the event queues of {@link IDLE_CONSUMERS}. Registers its
 * own beforeAll and afterAll; the fields are set once beforeAll ran.
 */
export function adminUnderTest(): AdminUnderTest {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const env = testEnv(ns, { DEAD_LETTER_POLL_MS: '600000' });
  const savedEnv = { ...process.env };
  const contexts: INestApplicationContext[] = [];
  let connection: ChannelModel | undefined;
  const t = { naming, schema: naming.schema('admin') } as AdminUnderTest;
  t.call = <T>(pattern: string, payload: unknown): Promise<T> => t.rpc.call<T>('admin', pattern, payload, { actor: ADMIN });
  t.page = (query = {}) => t.call<DeadLetterPage>(AdminRpc.DeadLetters, query);
  t.all = async (query = {}) => {
    const items: DeadLetter[] = [];
    let cursor: string | null = null;
    do {
      const result: DeadLetterPage = await t.page({ ...query, ...(cursor ? { cursor } : {}) });
      items.push(...result.items);
      cursor = result.nextCursor;
    } while (cursor);
    return items;
  };
  t.messageCount = async (queue) => (await t.channel.checkQueue(queue)).messageCount;

  beforeAll(async () => {
    Object.assign(process.env, env);
    // Two replicas, as deployed: each collects, and RPC calls are shared between them.
    for (let i = 0; i < 2; i++) contexts.push(await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false }));

    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    const caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    contexts.push(caller);
    t.rpc = caller.get(RpcClient);
    t.failing = await startFailingConsumer(env, 'upload');
    contexts.push(t.failing.app);

    connection = await amqp.connect(TEST_AMQP_URL);
    t.channel = await connection.createConfirmChannel();
    for (const service of IDLE_CONSUMERS) {
      await declareTopology(t.channel, naming, { service, events: { routingKeys: [`test.${service}`], retryDelayMs: 60_000 } });
    }
    t.redis = new Redis(TEST_REDIS_URL);
    t.db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await t.db.connect();
  });

  afterAll(async () => {
    for (const context of contexts.reverse()) await context.close();
    await connection?.close().catch(() => undefined);
    t.redis?.disconnect();
    await t.db?.end();
    const resources = [...PLATFORM_SERVICES, 'test-caller'].map((s) => topologyResources(naming, s, s === 'admin' ? 'admin' : undefined));
    await deleteAmqp([...new Set(resources.flatMap((r) => r.queues))], [...new Set(resources.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });
  return t;
}

/** `ok`, or the code of the RpcError the call rejected with. */
export function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof RpcError ? error.code : `unexpected: ${String(error)}`),
  );
}

export const payloadId = (letter: DeadLetter): unknown => (letter.payload as { id?: unknown } | null)?.id;
export const fieldsOf = (letter: DeadLetter): Record<string, string> => letter.payload as Record<string, string>;
