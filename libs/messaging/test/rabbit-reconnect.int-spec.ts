import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { RpcError } from '@flotilla/contracts';
import { HealthRegistry } from '@flotilla/observability';
import { PrivateRabbitMQ, uniqueNamespace, waitFor } from '@flotilla/testing';
import { EventConsumer, EventPublisher, RabbitConnection, RpcClient, RpcServer } from '../src/index.js';
import { gate, startService } from './rabbit-harness.js';

// The integration project's testTimeout in jest.config.mjs is not applied per project (Jest reads it globally).
jest.setTimeout(60_000);

/**
 * The broker closing our connection is what a RabbitMQ restart or a network cut looks
 * like to the service. The test forces it with rabbitmqctl on a RabbitMQ node of its own
 * (the machine's broker may be elsewhere, or shared), so it runs wherever RabbitMQ is installed.
 */
describe('RabbitMQ after the broker drops the connection', () => {
  const broker = new PrivateRabbitMQ();
  const namespace = uniqueNamespace();
  const hold = gate();
  let handlerStarted = false;
  const pings: string[] = [];
  let app: INestApplicationContext;

  beforeAll(async () => {
    await broker.start();
    app = await startService(namespace, { service: 'upload', serve: 'upload' }, [
      {
        provide: 'TEST_HANDLERS',
        inject: [RpcServer, EventConsumer],
        useFactory: async (server: RpcServer, events: EventConsumer) => {
          server.handle('test.echo', async (payload) => payload);
          server.handle('test.hold', async () => {
            handlerStarted = true;
            await hold.promise;
            return 'held';
          });
          await events.subscribe(['reconnect.ping'], async (envelope) => {
            pings.push(envelope.id);
          });
          return true;
        },
      },
    ], { AMQP_URL: broker.url });
  }, 180_000);

  afterAll(async () => {
    hold.open();
    await app?.close();
    await broker.remove();
  }, 120_000);

  it('hole 10: runs where rabbitmqctl is not on the PATH; fails calls waiting for a reply with UNAVAILABLE, then recovers RPC and events', async () => {
    const rpc = app.get(RpcClient);
    await expect(rpc.call('upload', 'test.echo', 'before')).resolves.toBe('before');

    const waiting = rpc.call('upload', 'test.hold', {}, { timeoutMs: 45_000 }).catch((e: unknown) => e);
    await waitFor(() => handlerStarted, { what: 'the handler to start' });
    expect(await broker.closeConnections(`${namespace}.upload@`, 'integration test: broker went away')).toBe(1);

    // The reply could only arrive on the closed channel: the caller learns at once, not after 45 s.
    const error = (await waiting) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('UNAVAILABLE');
    hold.open();

    // Reconnected: reply consumer, RPC consumer, publisher and event consumer were set up again.
    await waitFor(() => app.get(RabbitConnection).isConnected(), { what: 'the reconnect', timeoutMs: 20_000 });
    await waitFor(() => rpc.call('upload', 'test.echo', 'after').then((r) => r === 'after'), {
      what: 'RPC to work again',
      timeoutMs: 20_000,
    });
    const envelope = await app.get(EventPublisher).publish('reconnect.ping', {});
    await waitFor(() => pings.includes(envelope.id), { what: 'the event after reconnect' });
    const check = new Map(app.get(HealthRegistry).entries()).get('rabbitmq');
    await expect(check?.()).resolves.toBeUndefined();
  });
});
