import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { RpcError, type RpcActor } from '@flotilla/contracts';
import { currentContext, HealthRegistry, MetricsService, runWithContext } from '@flotilla/observability';
import { deleteAmqp, uniqueNamespace, waitFor } from '@flotilla/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { EventPublisher, RpcClient, RpcServer, topologyResources, validatePayload } from '../src/index.js';
import { BrokerProbe, gate, startService, type Gate } from './rabbit-harness.js';

// The integration project's testTimeout in jest.config.mjs is not applied per project (Jest reads it globally).
jest.setTimeout(60_000);

class CreateThingDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  count!: number;
}

const namespace = uniqueNamespace();
const naming = new Naming(namespace);
const actor: RpcActor = { userId: 'u-1', role: 'member', teamId: 't-1' };

/** Gates by key: `test.wait` handlers block until the test opens theirs. */
const gates = new Map<string, Gate>();
const gateFor = (key: string): Gate => {
  if (!gates.has(key)) gates.set(key, gate());
  return gates.get(key) as Gate;
};
const started = new Set<string>();

/** Returns a marker, not the server: Nest would run the server's lifecycle hooks a second time. */
function registerHandlers(server: RpcServer): true {
  server.handle('test.echo', async (payload, meta) => ({ payload, actor: meta.actor ?? null }));
  server.handle('test.create', async (payload) => {
    const dto = await validatePayload(CreateThingDto, payload);
    return { created: dto.name, count: dto.count };
  });
  server.handle('test.conflict', async () => {
    throw new RpcError('CONFLICT', 'That name is taken.', [{ path: 'name', message: 'name must be unique' }]);
  });
  server.handle('test.crash', async () => {
    throw new Error('password=hunter2 leaked by the database driver');
  });
  server.handle('test.whoami', async (_payload, meta) => ({
    meta: meta.correlationId,
    context: currentContext()?.correlationId ?? null,
    userId: currentContext()?.userId ?? null,
  }));
  server.handle('test.wait', async (payload) => {
    const key = (payload as { key: string }).key;
    started.add(key);
    await gateFor(key).promise;
    return { finished: key };
  });
  return true;
}

const handlers = { provide: 'TEST_HANDLERS', inject: [RpcServer], useFactory: registerHandlers };

describe('RabbitMQ RPC', () => {
  let server: INestApplicationContext;
  let client: INestApplicationContext;
  let rpc: RpcClient;
  let probe: BrokerProbe;

  beforeAll(async () => {
    probe = await BrokerProbe.open();
    server = await startService(namespace, { service: 'vote-consumer', serve: 'votes' }, [handlers]);
    client = await startService(namespace, { service: 'gateway' });
    rpc = client.get(RpcClient);
  });

  afterAll(async () => {
    for (const g of gates.values()) g.open();
    await client?.close();
    await server?.close();
    await probe?.close();
    const names = [
      topologyResources(naming, 'vote-consumer', 'votes'),
      topologyResources(naming, 'gateway'),
      topologyResources(naming, 'admin', 'admin'),
    ];
    await deleteAmqp(
      [...new Set(names.flatMap((n) => n.queues))],
      [...new Set(names.flatMap((n) => n.exchanges))],
    );
  });

  it('declares the service queue under the namespace', async () => {
    await expect(probe.depth(`${namespace}.votes.rpc`)).resolves.toBe(0);
  });

  it('round-trips a payload and the actor', async () => {
    const payload = { text: 'héllo', list: [1, 2, 3], nested: { ok: true } };
    await expect(rpc.call('votes', 'test.echo', payload, { actor })).resolves.toEqual({ payload, actor });
  });

  it('answers many concurrent calls, each with its own reply', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => rpc.call<{ payload: number }>('votes', 'test.echo', i)));
    expect(results.map((r) => r.payload)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('returns validated data from a DTO handler', async () => {
    await expect(rpc.call('votes', 'test.create', { name: 'thing', count: 2 })).resolves.toEqual({ created: 'thing', count: 2 });
  });

  it('delivers a validation failure typed, with field errors', async () => {
    const error = await rpc.call('votes', 'test.create', { name: 5, count: 0, extra: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    const rpcError = error as RpcError;
    expect(rpcError.code).toBe('VALIDATION');
    expect(rpcError.httpStatus).toBe(400);
    const paths = (rpcError.errors ?? []).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'count', 'extra']));
  });

  it('delivers a thrown RpcError with its code, message and errors', async () => {
    const error = (await rpc.call('votes', 'test.conflict', {}).catch((e: unknown) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('That name is taken.');
    expect(error.errors).toEqual([{ path: 'name', message: 'name must be unique' }]);
  });

  it('hides unexpected errors behind INTERNAL', async () => {
    const error = (await rpc.call('votes', 'test.crash', {}).catch((e: unknown) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('hunter2');
  });

  it('answers an unknown pattern with NOT_FOUND', async () => {
    const error = (await rpc.call('votes', 'test.nope', {}).catch((e: unknown) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('NOT_FOUND');
  });

  it('answers a malformed request with VALIDATION and keeps serving', async () => {
    const replies = await probe.rawRpc(`${namespace}.votes.rpc`, Buffer.from('{not json'));
    expect(JSON.parse(replies.toString())).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    await expect(rpc.call('votes', 'test.echo', 'still here')).resolves.toMatchObject({ payload: 'still here' });
  });

  it('fails with UNAVAILABLE when no service has declared the target queue', async () => {
    const error = (await rpc.call('provisioner', 'provisioner.anything', {}, { timeoutMs: 60_000 }).catch((e: unknown) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('UNAVAILABLE');
  });

  it('times out with TIMEOUT and ignores the late reply', async () => {
    const error = (await rpc.call('votes', 'test.wait', { key: 'late' }, { timeoutMs: 300 }).catch((e: unknown) => e)) as RpcError;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('TIMEOUT');
    gateFor('late').open();
    // The late reply arrives meanwhile and must not disturb the next call.
    await expect(rpc.call('votes', 'test.echo', 'after')).resolves.toMatchObject({ payload: 'after' });
  });

  it('carries the correlation id (and actor user) into the handler context', async () => {
    const result = await runWithContext({ correlationId: 'it-corr-42' }, () => rpc.call('votes', 'test.whoami', {}, { actor }));
    expect(result).toEqual({ meta: 'it-corr-42', context: 'it-corr-42', userId: 'u-1' });
  });

  it('records rpc_duration_seconds by service, pattern and outcome', async () => {
    const text = await client.get(MetricsService).registry.getSingleMetricAsString('rpc_duration_seconds');
    expect(text).toContain('rpc_duration_seconds_count{service="votes",pattern="test.echo",outcome="ok"}');
    expect(text).toMatch(/rpc_duration_seconds_count\{service="votes",pattern="test.wait",outcome="timeout"\} 1/);
    expect(text).toMatch(/rpc_duration_seconds_count\{service="votes",pattern="test.nope",outcome="not_found"\} 1/);
  });

  it('reports ready to the rabbitmq readiness check', async () => {
    for (const app of [client, server]) {
      const check = new Map(app.get(HealthRegistry).entries()).get('rabbitmq');
      expect(check).toBeDefined();
      await expect(check?.()).resolves.toBeUndefined();
    }
  });

  it('logs a handler still running after slowHandlerWarnMs, once, and answers when it ends', async () => {
    const slowServer = await startService(namespace, { service: 'admin', serve: 'admin', slowHandlerWarnMs: 100 }, [handlers]);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const call = runWithContext({ correlationId: 'slow-corr-7' }, () => rpc.call('admin', 'test.wait', { key: 'slow' }, { timeoutMs: 30_000 }));
      await waitFor(() => started.has('slow'), { what: 'the handler to start' });
      const slowLines = (): string[] => warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('test.wait still running'));
      await waitFor(() => slowLines().length > 0, { what: 'the slow-handler warning' });
      expect(slowLines()).toEqual(['test.wait still running after 100 ms (correlation slow-corr-7)']);
      gateFor('slow').open();
      await expect(call).resolves.toEqual({ finished: 'slow' });
      // A quick handler says nothing.
      await rpc.call('admin', 'test.echo', 'quick');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(slowLines()).toHaveLength(1);
    } finally {
      warn.mockRestore();
      await slowServer.close();
    }
  });

  it('answers a request in flight when shutdown begins, then stops', async () => {
    const draining = await startService(namespace, { service: 'admin', serve: 'admin' }, [handlers]);
    const call = rpc.call('admin', 'test.wait', { key: 'drain' }, { timeoutMs: 30_000 });
    await waitFor(() => started.has('drain'), { what: 'the handler to start' });
    const closing = draining.close();
    // Shutdown has begun: the consumer is cancelled while the handler still runs.
    await waitFor(() => !draining.get(RpcServer).isConsuming(), { what: 'the consumer to be cancelled' });
    gateFor('drain').open();
    await expect(call).resolves.toEqual({ finished: 'drain' });
    await closing;
    // Acked, not handed back: nothing is left in the queue.
    await expect(probe.depth(`${namespace}.admin.rpc`)).resolves.toBe(0);
  });
});

describe('RabbitMQ RPC without a broker', () => {
  it('fails calls with UNAVAILABLE at once instead of queueing them', async () => {
    const unreachable = await startService(
      uniqueNamespace(),
      { service: 'gateway', connectTimeoutMs: 300 },
      [],
      { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' },
    );
    try {
      const rpc = unreachable.get(RpcClient);
      // The call's own timeout is a minute: only an immediate failure beats the 5 s marker.
      let marker: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        rpc.call('votes', 'votes.listPolls', {}, { timeoutMs: 60_000 }).catch((e: unknown) => e),
        new Promise((resolve) => {
          marker = setTimeout(() => resolve('still waiting'), 5000);
        }),
      ]).finally(() => clearTimeout(marker));
      expect(outcome).toBeInstanceOf(RpcError);
      expect((outcome as RpcError).code).toBe('UNAVAILABLE');

      const published = await unreachable.get(EventPublisher).publish('dataset.uploaded', {}).catch((e: unknown) => e);
      expect((published as RpcError).code).toBe('UNAVAILABLE');

      const check = new Map(unreachable.get(HealthRegistry).entries()).get('rabbitmq');
      await expect(check?.()).rejects.toThrow('not connected');
    } finally {
      await unreachable.close();
    }
  });
});
