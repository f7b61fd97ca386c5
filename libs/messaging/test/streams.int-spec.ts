import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { correlationId, runWithContext } from '@flotilla/observability';
import { deleteKeys, PrivateRedis, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import {
  createRedisClient,
  fieldsToRecord,
  isRedisUnavailable,
  parseDeadLetter,
  StreamConsumer,
  waitUntilReady,
  xadd,
  type StreamConsumerOptions,
  type StreamEntry,
} from '@flotilla/messaging';

const GROUP = 'workers';

jest.setTimeout(60_000);

describe('StreamConsumer against a real Redis', () => {
  const ns = uniqueNamespace();
  let redis: Redis;
  let streamNo = 0;
  const consumers: StreamConsumer[] = [];

  const newStream = (): string => `${ns}:stream${++streamNo}`;

  function consumer(options: Partial<StreamConsumerOptions> & Pick<StreamConsumerOptions, 'stream' | 'handler'>): StreamConsumer {
    const c = new StreamConsumer({ redis, group: GROUP, consumer: `c${consumers.length}`, blockMs: 200, claimIdleMs: 300, ...options });
    consumers.push(c);
    return c;
  }

  async function addEntries(stream: string, count: number, extra: (i: number) => Record<string, string> = () => ({})): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await xadd(redis, stream, { n: String(i), ...extra(i) }));
    return ids;
  }

  const pendingCount = async (stream: string): Promise<number> => Number(((await redis.xpending(stream, GROUP)) as [number])[0]);
  const streamIds = async (stream: string): Promise<string[]> => (await redis.xrange(stream, '-', '+')).map(([id]) => id);

  beforeAll(async () => {
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'streams-test' });
    expect(await waitUntilReady(redis, 5000)).toBe(true);
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });

  afterAll(async () => {
    await deleteKeys(ns);
    await redis.quit();
  });

  it('acknowledges a batch only after the handler resolved', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 5);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: StreamEntry[][] = [];
    const c = consumer({ stream, handler: async (entries) => {
      seen.push(entries);
      await gate;
    } });
    await c.start();

    await waitFor(() => seen.length === 1, { what: 'the first batch' });
    expect(seen[0]!.map((e) => e.id)).toEqual(ids);
    expect(seen[0]![0]!.fields).toMatchObject({ n: '0' });
    // Delivered, handler still running: nothing acknowledged yet.
    expect(await pendingCount(stream)).toBe(5);
    expect(c.processed).toBe(0);

    release();
    await waitFor(async () => (await pendingCount(stream)) === 0, { what: 'the batch to be acked' });
    expect(c.processed).toBe(5);
    expect(await c.lag()).toEqual({ lag: 0, pending: 0 });
  });

  it('leaves entries pending when the handler fails, and delivers them again', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 4);
    let failing = true;
    let calls = 0;
    const committed: string[] = [];
    const c = consumer({ stream, maxDeliveries: 10, handler: async (entries) => {
      calls++;
      if (failing) throw new Error('database unavailable');
      committed.push(...entries.map((e) => e.id));
    } });
    await c.start();

    await waitFor(() => calls >= 2, { what: 'failed attempts' });
    expect(await pendingCount(stream)).toBe(4);
    expect(committed).toEqual([]);
    expect(await c.lag()).toEqual({ lag: 0, pending: 4 });

    failing = false;
    await waitFor(async () => (await pendingCount(stream)) === 0, { what: 'the entries to be redelivered and acked' });
    expect([...committed].sort()).toEqual([...ids].sort());
    expect(c.stats.reclaimed).toBeGreaterThanOrEqual(4);
    expect(c.deadLettered).toBe(0);
    expect(await redis.xlen(`${stream}:dead`)).toBe(0);
  });

  it('reclaims with XAUTOCLAIM what a consumer that died mid-batch had read', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 6);
    // The dead consumer: reads the batch, never acks, goes away.
    await redis.xgroup('CREATE', stream, GROUP, '0');
    const taken = (await redis.xreadgroup('GROUP', GROUP, 'dead-one', 'COUNT', 6, 'STREAMS', stream, '>')) as [string, unknown[]][];
    expect(taken[0]![1]).toHaveLength(6);
    expect(await pendingCount(stream)).toBe(6);

    const handled: string[] = [];
    const survivor = consumer({ stream, claimIdleMs: 500, handler: async (entries) => {
      handled.push(...entries.map((e) => e.id));
    } });
    await survivor.start();

    await waitFor(async () => (await pendingCount(stream)) === 0, { what: 'the survivor to reclaim and ack' });
    expect(handled).toEqual(ids);
    expect(survivor.stats.reclaimed).toBe(6);
    const deadOne = ((await redis.xinfo('CONSUMERS', stream, GROUP)) as unknown[][])
      .map((flat) => fieldsToRecord(flat))
      .find((info) => info.name === 'dead-one');
    expect(deadOne?.pending).toBe('0');
  });

  it('dead-letters a poison entry after maxDeliveries and processes the others once', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 10, (i): Record<string, string> => (i === 4 ? { poison: 'yes' } : {}));
    const poisonId = ids[4]!;
    const committed = new Map<string, number>();
    const attemptsOnPoison: number[] = [];
    const c = consumer({ stream, maxDeliveries: 3, claimIdleMs: 200, handler: async (entries) => {
      // Like a transaction: one bad row fails the whole batch, nothing of it is kept.
      if (entries.some((e) => e.fields.poison)) {
        attemptsOnPoison.push(entries.length);
        throw new Error('violates check constraint "positive_amount"');
      }
      for (const e of entries) committed.set(e.id, (committed.get(e.id) ?? 0) + 1);
    } });
    await c.start();

    await waitFor(async () => (await redis.xlen(`${stream}:dead`)) === 1, { timeoutMs: 10_000, what: 'the dead letter' });
    await waitFor(async () => (await pendingCount(stream)) === 0, { what: 'nothing pending' });
    expect([...committed.keys()].sort()).toEqual(ids.filter((id) => id !== poisonId).sort());
    expect([...committed.values()].every((n) => n === 1)).toBe(true);

    const [[, flat]] = (await redis.xrange(`${stream}:dead`, '-', '+')) as [string, string[]][];
    const letter = parseDeadLetter(fieldsToRecord(flat!));
    expect(letter).toMatchObject({ stream, group: GROUP, id: poisonId, deliveries: 3, error: 'violates check constraint "positive_amount"' });
    expect(letter.fields).toMatchObject({ n: '4', poison: 'yes' });
    expect(c.deadLettered).toBe(1);
    expect(c.processed).toBe(9);
    // Once in the batch of ten, then alone on each of its three deliveries.
    expect(attemptsOnPoison).toEqual([10, 1, 1, 1]);
  });

  it('dead-letters without handling an entry whose consumers kept crashing on it', async () => {
    const stream = newStream();
    const [id] = await addEntries(stream, 1);
    await redis.xgroup('CREATE', stream, GROUP, '0');
    await redis.xreadgroup('GROUP', GROUP, 'crashed-1', 'STREAMS', stream, '>');
    // Two more consumers took it over and died as well: three deliveries, no ack.
    await redis.xclaim(stream, GROUP, 'crashed-2', 0, id!);
    await redis.xclaim(stream, GROUP, 'crashed-3', 0, id!);
    await new Promise((r) => setTimeout(r, 250));

    let calls = 0;
    const c = consumer({ stream, maxDeliveries: 3, claimIdleMs: 200, handler: async () => {
      calls++;
    } });
    await c.start();
    await waitFor(async () => (await redis.xlen(`${stream}:dead`)) === 1, { what: 'the dead letter' });
    const [[, flat]] = (await redis.xrange(`${stream}:dead`, '-', '+')) as [string, string[]][];
    expect(parseDeadLetter(fieldsToRecord(flat!))).toMatchObject({ id, deliveries: 4 });
    expect(calls).toBe(0);
    expect(await pendingCount(stream)).toBe(0);
  });

  it('trims only entries every group has acknowledged, never pending or undelivered ones', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 10);
    await redis.xgroup('CREATE', stream, GROUP, '0');
    await redis.xreadgroup('GROUP', GROUP, 'slow', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xack(stream, GROUP, ids[0]!, ids[1]!, ids[2]!, ids[3]!, ids[6]!);
    const undelivered = await addEntries(stream, 3);
    const trimmer = consumer({ stream, handler: async () => undefined });

    expect(await trimmer.trim()).toBe(4);
    const left = await streamIds(stream);
    expect(left).toEqual([...ids.slice(4), ...undelivered]);
    expect(await trimmer.lag()).toEqual({ lag: 3, pending: 5 });

    // A second group that has read nothing yet holds everything.
    await redis.xgroup('CREATE', stream, 'auditors', '0');
    await redis.xack(stream, GROUP, ids[4]!, ids[5]!, ids[7]!, ids[8]!, ids[9]!);
    expect(await trimmer.trim()).toBe(0);
    await redis.xgroup('DESTROY', stream, 'auditors');

    // Everything delivered is acknowledged: only the undelivered remain (and the last delivered id).
    await trimmer.trim();
    expect(await streamIds(stream)).toEqual([ids[9]!, ...undelivered]);
  });

  it('trims while it consumes, keeping what is still pending', async () => {
    const stream = newStream();
    const ids = await addEntries(stream, 20);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const c = consumer({ stream, batchSize: 10, trimIntervalMs: 50, handler: async (entries) => {
      if (entries[0]!.id === ids[10]) await gate;
    } });
    await c.start();
    // First batch acked, second held by the handler: the first ten go, the held ten stay.
    await waitFor(async () => (await redis.xlen(stream)) === 10, { what: 'the acked batch to be trimmed' });
    expect(await streamIds(stream)).toEqual(ids.slice(10));
    expect(await pendingCount(stream)).toBe(10);
    release();
    await waitFor(async () => (await pendingCount(stream)) === 0, { what: 'the second batch' });
  });

  it('stop() lets the batch in hand finish and be acked, then reads nothing more', async () => {
    const stream = newStream();
    await addEntries(stream, 3);
    let started = false;
    let finished = false;
    const c = consumer({ stream, blockMs: 10_000, handler: async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 400));
      finished = true;
    } });
    await c.start();
    await waitFor(() => started, { what: 'the handler to start' });
    await c.stop();
    expect(finished).toBe(true);
    expect(await pendingCount(stream)).toBe(0);

    await addEntries(stream, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await c.lag()).toEqual({ lag: 2, pending: 0 });
  });

  it('with lingerMs, handles entries that trickle in many per call, each once', async () => {
    const stream = newStream();
    const sizes: number[] = [];
    const handled: string[] = [];
    const c = consumer({ stream, lingerMs: 500, handler: async (entries) => {
      sizes.push(entries.length);
      handled.push(...entries.map((e) => e.fields.n!));
    } });
    await c.start();
    for (let i = 0; i < 40; i++) {
      await xadd(redis, stream, { n: String(i) });
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(() => handled.length === 40, { what: 'all 40 entries' });
    expect(handled).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    // One entry per read without lingering; here the reads gathered what arrived meanwhile.
    expect(sizes.length).toBeLessThanOrEqual(5);
    expect(await c.lag()).toEqual({ lag: 0, pending: 0 });
  });

  it('with lingerMs, a backlog is read batch after batch without waiting, and stop() cuts a linger short', async () => {
    const stream = newStream();
    await addEntries(stream, 25);
    const sizes: number[] = [];
    const c = consumer({ stream, batchSize: 10, lingerMs: 60_000, handler: async (entries) => {
      sizes.push(entries.length);
    } });
    await c.start();
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) === 25, { what: 'the backlog of 25' });
    expect(sizes).toEqual([10, 10, 5]);
    // The last read was partial: the consumer now lingers for a minute, which stop() ends.
    await addEntries(stream, 1);
    const t0 = Date.now();
    await c.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('stop() returns at once from a blocked read', async () => {
    const stream = newStream();
    const c = consumer({ stream, blockMs: 30_000, handler: async () => undefined });
    await c.start();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await c.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('carries the producer correlation id into the handler context', async () => {
    const stream = newStream();
    const id = await runWithContext({ correlationId: 'req-1234' }, () => xadd(redis, stream, { kind: 'ping' }));
    const seen: string[] = [];
    const c = consumer({ stream, handler: async (entries) => {
      seen.push(`${entries[0]!.id} ${entries[0]!.fields.correlationId} ${correlationId()}`);
    } });
    await c.start();
    await waitFor(() => seen.length === 1, { what: 'the entry' });
    expect(seen[0]).toBe(`${id} req-1234 req-1234`);
  });

  it('recovers from a Redis restart that lost the stream, and fails fast while Redis is down', async () => {
    const server = await new PrivateRedis().start();
    const own = createRedisClient(server.url, { connectionName: 'restart-test' });
    try {
      expect(await waitUntilReady(own, 5000)).toBe(true);
      const stream = `${ns}:restart`;
      const handled: string[] = [];
      const c = consumer({ redis: own, stream, handler: async (entries) => {
        handled.push(...entries.map((e) => e.fields.n!));
      } });
      await c.start();
      await xadd(own, stream, { n: 'before' });
      await waitFor(() => handled.length === 1, { what: 'the first entry' });

      await server.stop();
      const t0 = Date.now();
      const failure = await xadd(own, stream, { n: 'during' }).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(500);
      expect(isRedisUnavailable(failure)).toBe(true);

      await server.start();
      await waitUntilReady(own, 10_000);
      await xadd(own, stream, { n: 'after' });
      await waitFor(() => handled.length === 2, { timeoutMs: 15_000, what: 'the entry added after the restart' });
      expect(handled).toEqual(['before', 'after']);
      await c.stop();
    } finally {
      own.disconnect();
      await server.stop();
    }
  });
});
