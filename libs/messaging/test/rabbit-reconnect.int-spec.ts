import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { RpcError } from '@flotilla/contracts';
import { HealthRegistry } from '@flotilla/observability';
import { deleteAmqp, uniqueNamespace, waitFor } from '@flotilla/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { EventConsumer, EventPublisher, RabbitConnection, RpcClient, RpcServer, topologyResources } from '../src/index.js';
import { gate, startService } from './rabbit-harness.js';

// The integration project's testTimeout in jest.config.mjs is not applied per project (Jest reads it globally).
jest.setTimeout(60_000);

/**
 * The broker closing our connection is what a RabbitMQ restart or a network cut looks
 * like to the service. Forcing it needs `rabbitmqctl` on the broker's host; where the
 * broker runs elsewhere (a CI service container) this file is skipped.
 */
const hasRabbitmqctl = spawnSync('rabbitmqctl', ['list_connections', '-q'], { timeout: 30_000 }).status === 0;

/** Closes, on the broker's side, every connection whose name starts with `prefix`. */
function closeConnectionsNamed(prefix: string): number {
  // One line per connection: `<rabbit@host.1.2.0>\t[{"connection_name","…"},…]`.
  const out = execFileSync('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'], {
    timeout: 30_000,
  }).toString();
  const pids = out
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${prefix}`))
    .map((line) => line.split('\t')[0] as string);
  for (const pid of pids) execFileSync('rabbitmqctl', ['close_connection', pid, 'integration test: broker went away'], { timeout: 30_000 });
  return pids.length;
}

(hasRabbitmqctl ? describe : describe.skip)('RabbitMQ after the broker drops the connection', () => {
  const namespace = uniqueNamespace();
  const naming = new Naming(namespace);
  const hold = gate();
  let handlerStarted = false;
  const pings: string[] = [];
  let app: INestApplicationContext;

  beforeAll(async () => {
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
    ]);
  });

  afterAll(async () => {
    hold.open();
    await app?.close();
    const names = topologyResources(naming, 'upload', 'upload');
    await deleteAmqp(names.queues, names.exchanges);
  });

  it('fails calls waiting for a reply with UNAVAILABLE, then recovers RPC and events', async () => {
    const rpc = app.get(RpcClient);
    await expect(rpc.call('upload', 'test.echo', 'before')).resolves.toBe('before');

    const waiting = rpc.call('upload', 'test.hold', {}, { timeoutMs: 45_000 }).catch((e: unknown) => e);
    await waitFor(() => handlerStarted, { what: 'the handler to start' });
    expect(closeConnectionsNamed(`${namespace}.upload@`)).toBe(1);

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
