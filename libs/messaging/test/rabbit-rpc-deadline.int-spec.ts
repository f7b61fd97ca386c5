import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { DEV_INTERNAL_TOKEN_SECRET, Naming } from '@flotilla/config';
import { RpcError } from '@flotilla/contracts';
import { MetricsService } from '@flotilla/observability';
import { deleteAmqp, TEST_AMQP_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { AmqpHeaders, InternalCaller, RpcClient, RpcServer, topologyResources } from '../src/index.js';
import { gate, startService, type Gate } from './rabbit-harness.js';

jest.setTimeout(60_000);

const namespace = uniqueNamespace();
const naming = new Naming(namespace);
const queue = `${namespace}.admin.rpc`;

/** Handler runs by key: which requests a handler was actually started for. */
const ran: string[] = [];
const releases = new Map<string, Gate>();
const release = (key: string): Gate => {
  if (!releases.has(key)) releases.set(key, gate());
  return releases.get(key) as Gate;
};
const finished = new Set<string>();

function registerHandlers(server: RpcServer): true {
  server.handle('test.echo', async (payload) => payload);
  // Never resolves unless the test opens its gate: a handler stuck on a dependency that never answers.
  server.handle('test.hang', async (payload) => {
    const key = (payload as { key: string }).key;
    ran.push(key);
    await release(key).promise;
    finished.add(key);
    return { late: key };
  });
  server.handle('test.record', async (payload) => {
    ran.push((payload as { key: string }).key);
    return { recorded: true };
  });
  return true;
}

const handlers = { provide: 'TEST_HANDLERS', inject: [RpcServer], useFactory: registerHandlers };

/** A publisher that writes requests by hand, with whatever headers a test needs, and collects the replies. */
class RawCaller {
  readonly replies: { correlationId: string; body: unknown }[] = [];

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async open(): Promise<RawCaller> {
    const connection = await amqp.connect(TEST_AMQP_URL);
    const channel = await connection.createChannel();
    const caller = new RawCaller(connection, channel);
    await channel.consume(
      'amq.rabbitmq.reply-to',
      (m: ConsumeMessage | null) => {
        if (m) caller.replies.push({ correlationId: String(m.properties.correlationId), body: JSON.parse(m.content.toString()) });
      },
      { noAck: true },
    );
    return caller;
  }

  /** Publishes a request and waits until the broker has it (a round trip on the same channel). */
  async send(id: string, pattern: string, payload: unknown, headers: Record<string, unknown> = {}): Promise<void> {
    const content = Buffer.from(JSON.stringify({ pattern, payload }));
    this.channel.sendToQueue(queue, content, {
      replyTo: 'amq.rabbitmq.reply-to',
      correlationId: id,
      type: pattern,
      // A caller the services trust: only the deadline headers are under test here.
      headers: { [AmqpHeaders.CallerToken]: new InternalCaller(DEV_INTERNAL_TOKEN_SECRET, 'raw-caller').mint(pattern, undefined, 60_000, content), ...headers },
    });
    await this.channel.checkQueue(queue);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

describe('RabbitMQ RPC deadlines', () => {
  let server: INestApplicationContext;
  let client: INestApplicationContext;
  let rpc: RpcClient;
  let raw: RawCaller;

  beforeAll(async () => {
    // One request at a time: a handler that holds its slot blocks everything behind it.
    server = await startService(namespace, { service: 'admin', serve: 'admin', prefetch: 1, defaultDeadlineMs: 1000 }, [handlers]);
    client = await startService(namespace, { service: 'gateway' });
    rpc = client.get(RpcClient);
    raw = await RawCaller.open();
  });

  afterAll(async () => {
    for (const g of releases.values()) g.open();
    await raw?.close();
    await client?.close();
    await server?.close();
    const names = [topologyResources(naming, 'admin', 'admin'), topologyResources(naming, 'gateway')];
    await deleteAmqp([...new Set(names.flatMap((n) => n.queues))], [...new Set(names.flatMap((n) => n.exchanges))]);
  });

  const abandoned = async (pattern: string, reason: string): Promise<number> => {
    const metric = await server.get(MetricsService).registry.getSingleMetric('rpc_server_abandoned_total')?.get();
    return metric?.values.find((v) => v.labels.pattern === pattern && v.labels.reason === reason)?.value ?? 0;
  };

  it('hole 5: a handler that never resolves frees its prefetch slot at the caller\'s deadline; the next request is served', async () => {
    const before = await abandoned('test.hang', 'deadline');
    const hung = await rpc.call('admin', 'test.hang', { key: 'stuck' }, { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(RpcError);
    expect((hung as RpcError).code).toBe('TIMEOUT');
    // The handler is still running (its gate is closed); the slot must be free all the same.
    await expect(rpc.call('admin', 'test.echo', 'next', { timeoutMs: 5000 })).resolves.toBe('next');
    expect(await abandoned('test.hang', 'deadline')).toBe(before + 1);
  });

  it('hole 5: an abandoned handler that ends later sends no reply', async () => {
    const before = await abandoned('test.hang', 'deadline');
    await raw.send('late-1', 'test.hang', { key: 'late' }, { 'x-deadline': Date.now() + 300 });
    await waitFor(() => ran.includes('late'), { what: 'the handler to start' });
    await waitFor(async () => (await abandoned('test.hang', 'deadline')) === before + 1, { what: 'the request to be abandoned' });
    release('late').open();
    await waitFor(() => finished.has('late'), { what: 'the handler to end' });
    // Replies come back in order on one reply-to: once this one is here, a late one would have come first.
    await raw.send('after-1', 'test.echo', 'after', { 'x-deadline': Date.now() + 5000 });
    await waitFor(() => raw.replies.some((r) => r.correlationId === 'after-1'), { what: 'the reply to the next request' });
    expect(raw.replies.map((r) => r.correlationId)).toEqual(['after-1']);
  });

  it('hole 5: a request whose deadline passed before it was taken off the queue is dropped without running', async () => {
    const before = raw.replies.length;
    await raw.send('expired-1', 'test.record', { key: 'expired' }, { 'x-deadline': Date.now() - 1 });
    await raw.send('fresh-1', 'test.record', { key: 'fresh' }, { 'x-deadline': Date.now() + 5000 });
    await waitFor(() => raw.replies.some((r) => r.correlationId === 'fresh-1'), { what: 'the fresh request to be answered' });
    // One at a time, in order: the expired request was taken before the fresh one was answered.
    expect(ran).not.toContain('expired');
    expect(ran).toContain('fresh');
    expect(raw.replies.slice(before).map((r) => r.correlationId)).toEqual(['fresh-1']);
    expect(await abandoned('test.record', 'expired')).toBe(1);
  });

  it('hole 5: a request without a deadline (an older publisher) is abandoned after the server\'s default deadline', async () => {
    const before = await abandoned('test.hang', 'deadline');
    await raw.send('old-1', 'test.hang', { key: 'old' });
    await waitFor(() => ran.includes('old'), { what: 'the handler to start' });
    // Still hung: without the default deadline this request would wait for ever behind it.
    await expect(rpc.call('admin', 'test.echo', 'behind', { timeoutMs: 10_000 })).resolves.toBe('behind');
    expect(finished.has('old')).toBe(false);
    expect(await abandoned('test.hang', 'deadline')).toBe(before + 1);
  });
});
