import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp, { type ChannelModel } from 'amqplib';
import { BaseEnv, FlotillaConfigModule, Naming } from '@flotilla/config';
import type { ServiceInstance } from '@flotilla/contracts';
import { EventPublisher, Heartbeat, RabbitModule, topologyResources } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { deleteAmqp, deleteKeys, dropSchemas, testEnv, TEST_AMQP_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { ServiceMonitor } from '../src/health/service-monitor.js';

jest.setTimeout(120_000);

const DOWN_AFTER_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The admin service's health monitor against instances that beat, stop gracefully, or die. */
describe('admin: service health from heartbeats', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const env = testEnv(ns, { SERVICE_DOWN_AFTER_MS: String(DOWN_AFTER_MS), DEAD_LETTER_POLL_MS: '600000' });
  const savedEnv = { ...process.env };
  const instances: INestApplicationContext[] = [];
  let admin: INestApplicationContext | undefined;
  let connection: ChannelModel;

  async function startAdmin(): Promise<INestApplicationContext> {
    admin = await NestFactory.createApplicationContext(AppModule, { logger: ['error'], abortOnError: false });
    return admin;
  }

  /** A service instance that only beats, every `intervalMs`. */
  async function startInstance(service: string, heartbeat: { intervalMs: number; expiresAfterMs?: number }): Promise<INestApplicationContext> {
    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, env), ObservabilityModule, RabbitModule.forRoot({ service, heartbeat })] })
    class InstanceModule {}
    const app = await NestFactory.createApplicationContext(InstanceModule, { logger: ['error'], abortOnError: false });
    instances.push(app);
    return app;
  }

  /** As SIGKILL looks from outside: its beats stop, no goodbye. */
  function kill(instance: INestApplicationContext): void {
    jest.spyOn(instance.get(EventPublisher), 'publishEnvelope').mockRejectedValue(new Error('killed'));
  }

  const seen = async (instanceId: string): Promise<ServiceInstance | undefined> =>
    (await admin!.get(ServiceMonitor).list()).find((i) => i.instanceId === instanceId);
  const statusOf = async (instanceId: string): Promise<string | undefined> => (await seen(instanceId))?.status;

  /** Messages ready in `queue`; 0 when it does not exist. */
  async function ready(queue: string): Promise<number> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch {
      return 0;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  beforeAll(async () => {
    Object.assign(process.env, env);
    connection = await amqp.connect(TEST_AMQP_URL);
    await startAdmin();
  });

  afterAll(async () => {
    for (const app of instances) await app.close().catch(() => undefined);
    await admin?.close();
    await connection?.close().catch(() => undefined);
    const resources = ['admin', 'upload', 'validator', 'provisioner'].map((s) => topologyResources(naming, s, s === 'admin' ? 'admin' : undefined));
    await deleteAmqp([...new Set([...resources.flatMap((r) => r.queues), naming.amqp('admin.heartbeats')])], [...new Set(resources.flatMap((r) => r.exchanges))]);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
    process.env = savedEnv;
  });

  it('hole 9: a gracefully stopped instance shows stopped, a killed one down', async () => {
    const graceful = await startInstance('upload', { intervalMs: 200 });
    const killed = await startInstance('validator', { intervalMs: 200 });
    const gracefulId = graceful.get(Heartbeat).instanceId;
    const killedId = killed.get(Heartbeat).instanceId;
    await waitFor(async () => (await statusOf(gracefulId)) === 'up' && (await statusOf(killedId)) === 'up', { what: 'both instances up' });

    await graceful.close();
    await waitFor(async () => (await statusOf(gracefulId)) === 'stopped', { what: 'the gracefully stopped instance stopped' });
    kill(killed);
    await waitFor(async () => (await statusOf(killedId)) === 'down', { what: 'the killed instance down' });

    // The sweep that found the killed one down left the stopped one alone.
    expect(await seen(gracefulId)).toMatchObject({ status: 'stopped', ready: false });
    expect((await seen(gracefulId))!.transitions.map((t) => t.status)).toEqual(['up', 'stopped']);
    expect((await seen(killedId))!.transitions.map((t) => t.status)).toEqual(['up', 'down']);
  });

  it('hole 9: heartbeats queued while the admin was away do not mark a dead instance up when it returns', async () => {
    // Beats that do not expire for a minute: what the admin itself makes of a backlog.
    const instance = await startInstance('provisioner', { intervalMs: 5, expiresAfterMs: 60_000 });
    const id = instance.get(Heartbeat).instanceId;
    await waitFor(async () => (await statusOf(id)) === 'up', { what: 'the instance up' });

    await admin!.close();
    // The admin is away; the instance beats on for a while (a backlog of hundreds of beats), then dies.
    await sleep(5000);
    kill(instance);
    await sleep(DOWN_AFTER_MS * 2);

    await startAdmin();
    // Dead for longer than the threshold: not up from the moment the admin is back.
    expect(await statusOf(id)).toBe('down');
    await waitFor(async () => (await ready(naming.amqp('admin.heartbeats'))) + (await ready(naming.amqp('admin.events'))) === 0, {
      what: 'the backlog consumed',
      timeoutMs: 30_000,
    });
    // Beats already taken from the queue (up to the prefetch) are handled within this.
    await sleep(DOWN_AFTER_MS);
    const after = await seen(id);
    expect(after?.status).toBe('down');
    expect(after?.transitions.map((t) => t.status)).toEqual(['up', 'down']);
  });
});
