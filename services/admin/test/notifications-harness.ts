import 'reflect-metadata';
import { afterAll, beforeAll } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import { AdminRpc, StoreEventTypes, type NotificationChannel, type NotificationDelivery, type RpcActor } from '@flotilla/contracts';
import { PLATFORM_SERVICES, RabbitModule, RpcClient, topologyNames, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { deleteAmqp, deleteKeys, dropSchemas, publishSigned, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { mailReceiver, webhookReceiver, type MailReceiver, type WebhookReceiver } from '@flotilla/testing';

export const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
export const SECRET = 'receiver-secret-0123456789abcdef';
export const MAX_ATTEMPTS = 5;
export const DOWN_AFTER_MS = 1000;

/** Paths of the webhook receiver: `/flaky…` answers 500 three times then 200, `/broken…` always 500, anything else 200 (after 30 ms). */
function answer(path: string, nth: number): number {
  if (path.startsWith('/broken')) return 500;
  if (path.startsWith('/flaky')) return nth <= 3 ? 500 : 200;
  return 200;
}

export interface NotificationsUnderTest {
  naming: Naming;
  env: Record<string, string>;
  admins: INestApplicationContext[];
  rpc: RpcClient;
  hooks: WebhookReceiver;
  mail: MailReceiver;
  channel: ConfirmChannel;
  db: pg.Client;
  redis: Redis;
  schema: string;
  call<T>(pattern: string, payload: unknown): Promise<T>;
  createChannel(body: Record<string, unknown>): Promise<NotificationChannel>;
  deliveries(channelId: string): Promise<NotificationDelivery[]>;
  /** Publishes a store.health event as the provisioner does (signed, through the events exchange); returns the envelope. */
  storeHealth(health: 'up' | 'down', opts?: { id?: string; name?: string; reason?: string }): Promise<{ id: string }>;
  /** Publishes an envelope again, byte for byte the same event. */
  publish(type: string, envelope: unknown): Promise<void>;
}

/**
 * Two admin replicas in process against real Postgres and RabbitMQ in a namespace of
 * their own, a local webhook receiver and SMTP server, and an RPC caller as the
 * gateway calls. Registers its own beforeAll and afterAll.
 */
export function notificationsUnderTest(): NotificationsUnderTest {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const t = { naming, schema: naming.schema('admin'), admins: [] as INestApplicationContext[] } as NotificationsUnderTest;
  const savedEnv = { ...process.env };
  const contexts: INestApplicationContext[] = [];
  let connection: ChannelModel | undefined;

  t.call = <T>(pattern: string, payload: unknown): Promise<T> => t.rpc.call<T>('admin', pattern, payload, { actor: ADMIN });
  t.createChannel = (body) => t.call<NotificationChannel>(AdminRpc.CreateNotification, body);
  t.deliveries = async (id) => (await t.call<{ items: NotificationDelivery[] }>(AdminRpc.NotificationDeliveries, { id })).items;
  t.publish = async (type, envelope) => {
    publishSigned(t.channel, topologyNames(naming, 'admin').eventsExchange, type, envelope, { persistent: true, contentType: 'application/json', type }, 'provisioner');
    await t.channel.waitForConfirms();
  };
  t.storeHealth = async (health, opts = {}) => {
    const storeId = randomUUID();
    const envelope = {
      id: opts.id ?? randomUUID(),
      type: StoreEventTypes.Health,
      occurredAt: new Date().toISOString(),
      source: 'provisioner',
      correlationId: randomUUID(),
      data: {
        storeId,
        name: opts.name ?? 'shop',
        teamId: randomUUID(),
        status: health === 'down' ? 'degraded' : 'ready',
        revision: 1,
        message: health === 'down' ? `down: ${opts.reason ?? 'no ready pod'}` : 'up',
        health,
        reason: health === 'down' ? (opts.reason ?? 'no ready pod') : null,
      },
    };
    await t.publish(StoreEventTypes.Health, envelope);
    return envelope;
  };

  beforeAll(async () => {
    t.hooks = await webhookReceiver(SECRET, answer, 30);
    t.mail = await mailReceiver();
    t.env = testEnv(ns, {
      DEAD_LETTER_POLL_MS: '600000',
      SERVICE_DOWN_AFTER_MS: String(DOWN_AFTER_MS),
      NOTIFY_POLL_MS: '100',
      NOTIFY_RETRY_BASE_MS: '100',
      NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      NOTIFY_TIMEOUT_MS: '3000',
      SMTP_URL: t.mail.url,
      SMTP_FROM: 'Flotilla <alerts@flotilla.test>',
    });
    Object.assign(process.env, t.env);
    // Two replicas, as deployed: both consume events, sweep heartbeats and deliver.
    for (let i = 0; i < 2; i++) t.admins.push(await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false }));
    contexts.push(...t.admins);

    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, t.env), ObservabilityModule, RabbitModule.forRoot({ service: 'test-caller' })] })
    class CallerModule {}
    const caller = await NestFactory.createApplicationContext(CallerModule, { logger: ['error'], abortOnError: false });
    contexts.push(caller);
    t.rpc = caller.get(RpcClient);
    connection = await amqp.connect(TEST_AMQP_URL);
    t.channel = await connection.createConfirmChannel();
    t.db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await t.db.connect();
    t.redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    for (const context of contexts.reverse()) await context.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await t.db?.end();
    t.redis?.disconnect();
    await t.hooks?.close();
    await t.mail?.close();
    const resources = [...PLATFORM_SERVICES, 'test-caller'].map((s) => topologyResources(naming, s, s === 'admin' ? 'admin' : undefined));
    await deleteAmqp([...new Set([...resources.flatMap((r) => r.queues), naming.amqp('admin.heartbeats')])], [...new Set(resources.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });
  return t;
}

/** `ok`, or the code of the RpcError the call rejected with (anything else says so). */
export function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : `unexpected: ${String(error)}`),
  );
}
