import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import { AdminRpc, type RpcActor } from '@flotilla/contracts';
import { PLATFORM_SERVICES, RabbitModule, RpcClient, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };

/**
 * The dashboard's figures read the depth of the validator's event queue. Before the
 * validator first started, that queue does not exist: asking RabbitMQ for it must not
 * cost the admin its connection (the channel manager treats a 404 as a lost connection),
 * which would drop the RPC replies in flight and run unacknowledged requests again.
 */
describe('admin figures while the validator has never run', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const env = testEnv(ns, { DEAD_LETTER_POLL_MS: '600000' });
  const saved = { ...process.env };
  const contexts: INestApplicationContext[] = [];
  let rpc: RpcClient;
  let db: pg.Client;

  beforeAll(async () => {
    Object.assign(process.env, env);
    contexts.push(await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false }));
    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    const caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    contexts.push(caller);
    rpc = caller.get(RpcClient);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const context of contexts.reverse()) await context.close();
    await db?.end();
    const resources = [...PLATFORM_SERVICES, 'test-caller'].map((s) => topologyResources(naming, s, s === 'admin' ? 'admin' : undefined));
    await deleteAmqp([...new Set(resources.flatMap((r) => r.queues))], [...new Set(resources.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = saved;
  });

  it('answers every call once: figures beside creates, each channel created once', async () => {
    const creates = Array.from({ length: 10 }, (_, i) =>
      rpc.call('admin', AdminRpc.CreateNotification, { kind: 'webhook', url: `http://127.0.0.1:9/hook-${i}`, secret: `s3cret-${i}-0123456789abcdef`, events: ['store.down'] }, { actor: ADMIN }),
    );
    const figures = Array.from({ length: 10 }, () => rpc.call<{ queues: { validation: number | null } }>('admin', AdminRpc.Stats, {}, { actor: ADMIN }));
    const [created, stats] = await Promise.all([Promise.allSettled(creates), Promise.allSettled(figures)]);
    expect(created.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual(Array(10).fill('fulfilled'));
    expect(stats.map((r) => r.status)).toEqual(Array(10).fill('fulfilled'));
    // The queue does not exist yet: its depth is 0, not an error.
    for (const r of stats) if (r.status === 'fulfilled') expect(r.value.queues.validation).toBe(0);
    // Independent truth: the rows in the admin's schema, one per call.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { rows } = await db.query<{ url: string; n: number }>(`SELECT url, count(*)::int AS n FROM "${naming.schema('admin')}".notification_channels GROUP BY url`);
    expect(rows.length).toBe(10);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });
});
