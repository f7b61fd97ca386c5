import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { EventTypes, HEARTBEAT_INTERVAL_MS, type EventEnvelope, type ServiceHeartbeatData } from '@flotilla/contracts';
import { HealthRegistry } from '@flotilla/observability';
import { deleteAmqp, freePort, TEST_AMQP_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Heartbeat, topologyNames, topologyResources } from '../src/index.js';
import { startService } from './rabbit-harness.js';

// The integration project's testTimeout in jest.config.mjs is not applied per project (Jest reads it globally).
jest.setTimeout(60_000);

const INTERVAL_MS = 250;

interface Beat {
  routingKey: string;
  receivedAt: number;
  envelope: EventEnvelope<ServiceHeartbeatData>;
  expiration: unknown;
  deliveryMode: unknown;
}

/** A queue of the test's own bound to `service.heartbeat`, as the admin service binds one. */
describe('service heartbeats on the bus', () => {
  const namespace = uniqueNamespace();
  const naming = new Naming(namespace);
  const exchange = topologyNames(naming, 'upload').eventsExchange;
  const queue = naming.amqp('test.heartbeats');
  const beats: Beat[] = [];
  let connection: ChannelModel;
  let channel: Channel;
  let app: INestApplicationContext;
  let dependencyUp = true;

  const beatsOf = (instanceId: string): Beat[] => beats.filter((b) => b.envelope.data.instanceId === instanceId);

  beforeAll(async () => {
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    // Declared before the service starts (same arguments as the topology), so its first beat is routed here too.
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await channel.bindQueue(queue, exchange, EventTypes.ServiceHeartbeat);
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        beats.push({
          routingKey: message.fields.routingKey,
          receivedAt: Date.now(),
          envelope: JSON.parse(message.content.toString()) as EventEnvelope<ServiceHeartbeatData>,
          expiration: message.properties.expiration,
          deliveryMode: message.properties.deliveryMode,
        });
      },
      { noAck: true },
    );
    app = await startService(namespace, { service: 'upload', heartbeat: { intervalMs: INTERVAL_MS } }, [], { SERVICE_VERSION: '7.8.9-test' });
    app.get(HealthRegistry).register('test-dependency', async () => {
      if (!dependencyUp) throw new Error('test dependency is down');
    });
  });

  afterAll(async () => {
    await app?.close();
    await channel?.close().catch(() => undefined);
    await connection?.close();
    const resources = topologyResources(naming, 'upload');
    await deleteAmqp([...resources.queues, queue], resources.exchanges);
  });

  it('uses the platform interval unless told otherwise', () => {
    expect(HEARTBEAT_INTERVAL_MS).toBe(5000);
    expect(app.get(Heartbeat).intervalMs).toBe(INTERVAL_MS);
  });

  it('publishes service.heartbeat at the interval with who, which version, since when, and ready', async () => {
    const heartbeat = app.get(Heartbeat);
    const mine = await waitFor(() => (beatsOf(heartbeat.instanceId).length >= 6 ? beatsOf(heartbeat.instanceId) : undefined), {
      what: 'six heartbeats',
      timeoutMs: 10_000,
    });
    for (const beat of mine) {
      expect(beat.routingKey).toBe('service.heartbeat');
      expect(beat.envelope).toMatchObject({ type: 'service.heartbeat', source: 'upload' });
      expect(beat.envelope.data).toEqual({
        service: 'upload',
        instanceId: heartbeat.instanceId,
        version: '7.8.9-test',
        startedAt: heartbeat.startedAt,
        ready: true,
        state: 'running',
      });
    }
    expect(heartbeat.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(heartbeat.startedAt)).not.toBeNaN();
    // Each beat is its own event.
    expect(new Set(mine.map((b) => b.envelope.id)).size).toBe(mine.length);
    // At the interval: neither a busy loop nor a stalled timer.
    const sent = mine.map((b) => Date.parse(b.envelope.occurredAt));
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThanOrEqual(INTERVAL_MS * 0.8);
    expect(mean).toBeLessThanOrEqual(INTERVAL_MS * 1.6);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL_MS * 0.5);
  });

  it('reports ready: false while a readiness check fails, and true again once it passes', async () => {
    const { instanceId } = app.get(Heartbeat);
    dependencyUp = false;
    const from = beatsOf(instanceId).length;
    await waitFor(() => beatsOf(instanceId).slice(from).some((b) => !b.envelope.data.ready), { what: 'a not-ready beat', timeoutMs: 5000 });
    dependencyUp = true;
    const after = beatsOf(instanceId).length;
    await waitFor(() => beatsOf(instanceId).slice(after).some((b) => b.envelope.data.ready), { what: 'a ready beat again', timeoutMs: 5000 });
  });

  it('gives each process its own instance id', async () => {
    const other = await startService(namespace, { service: 'upload', heartbeat: { intervalMs: INTERVAL_MS } });
    try {
      const otherId = other.get(Heartbeat).instanceId;
      expect(otherId).not.toBe(app.get(Heartbeat).instanceId);
      await waitFor(() => beatsOf(otherId).length >= 2, { what: 'beats of the second instance', timeoutMs: 5000 });
      // SERVICE_VERSION unset: the configuration's default.
      expect(beatsOf(otherId)[0]!.envelope.data.version).toEqual(expect.any(String));
    } finally {
      await other.close();
    }
  });

  it('hole 9: beats are transient and expire after three intervals, so a queue never hands out stale ones', async () => {
    const heartbeat = app.get(Heartbeat);
    expect(heartbeat.expiresAfterMs).toBe(INTERVAL_MS * 3);
    const mine = await waitFor(() => (beatsOf(heartbeat.instanceId).length >= 2 ? beatsOf(heartbeat.instanceId) : undefined), { what: 'two beats' });
    for (const beat of mine) {
      expect(beat.expiration).toBe(String(INTERVAL_MS * 3));
      // 1: transient (2 would be persistent).
      expect(beat.deliveryMode).toBe(1);
    }
    // What the broker does with it: a beat left in a queue past its expiry is dropped.
    const parked = naming.amqp('test.heartbeats.parked');
    await channel.assertQueue(parked, { durable: false, autoDelete: false });
    try {
      await channel.bindQueue(parked, exchange, EventTypes.ServiceHeartbeat);
      await waitFor(async () => (await channel.checkQueue(parked)).messageCount > 0, { what: 'a parked beat' });
      await channel.unbindQueue(parked, exchange, EventTypes.ServiceHeartbeat);
      await waitFor(async () => (await channel.checkQueue(parked)).messageCount === 0, { what: 'the parked beats expired', timeoutMs: 10_000 });
    } finally {
      await channel.deleteQueue(parked);
    }
  });

  it('hole 9: sends a last beat with state stopped and ready: false on a graceful stop, then stays silent', async () => {
    const other = await startService(namespace, { service: 'upload', heartbeat: { intervalMs: INTERVAL_MS } });
    const otherId = other.get(Heartbeat).instanceId;
    await waitFor(() => beatsOf(otherId).some((b) => b.envelope.data.ready), { what: 'a ready beat', timeoutMs: 5000 });
    await other.close();
    const last = await waitFor(() => (beatsOf(otherId).at(-1)?.envelope.data.ready === false ? beatsOf(otherId).at(-1) : undefined), {
      what: 'the final not-ready beat',
      timeoutMs: 5000,
    });
    expect(last.envelope.data).toMatchObject({ service: 'upload', instanceId: otherId, ready: false, state: 'stopped' });
    const count = beatsOf(otherId).length;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 4));
    expect(beatsOf(otherId).length).toBe(count);
  });

  it('skips beats without throwing while the broker cannot be reached, and still shuts down', async () => {
    const deadPort = await freePort();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const offline = await startService(namespace, { service: 'upload', connectTimeoutMs: 300, heartbeat: { intervalMs: 100 } }, [], {
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${deadPort}`,
      });
      const offlineId = offline.get(Heartbeat).instanceId;
      // Several intervals pass with the broker away: nothing reaches the bus, nothing blows up.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(beatsOf(offlineId)).toHaveLength(0);
      await expect(offline.close()).resolves.toBeUndefined();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
