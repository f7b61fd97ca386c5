import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { StreamGroups, Streams } from '@flotilla/contracts';
import { MetricsService } from '@flotilla/observability';
import { deleteKeys, TEST_REDIS_URL, uniqueNamespace } from '@flotilla/testing';
import { RequestLogService } from '../src/request-log/request-log.service.js';

const CAP = 1000;

/** What the service reads of a served request. */
function served(i: number): [FastifyRequest, FastifyReply] {
  const request = {
    correlationId: `req-${i}`,
    method: 'GET',
    url: `/api/v1/polls/p${i}?x=1`,
    routeOptions: { url: '/api/v1/polls/:pollId' },
    ip: '192.0.2.1',
    headers: { 'user-agent': 'cap-test/1' },
  } as unknown as FastifyRequest;
  const reply = { statusCode: 200, elapsedTime: 1.5, getHeader: () => '42' } as unknown as FastifyReply;
  return [request, reply];
}

/** The `requests` stream is capped, so an admin that is down cannot fill Redis; what is cut unread is counted. */
describe('request log stream cap', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const stream = naming.key(Streams.Requests);
  let redis: Redis;
  let metrics: MetricsService;
  let log: RequestLogService;

  const cut = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('request_log_stream_cut_total')!.get()).values.reduce((sum, v) => sum + v.value, 0);
  const record = async (from: number, count: number): Promise<void> => {
    for (let i = from; i < from + count; i++) log.record(...served(i));
    // A flush already under way returns at once: wait for it, then send the rest.
    while (log.pending > 0) {
      await log.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    metrics = new MetricsService();
    log = new RequestLogService(redis, naming, metrics, { REQUEST_LOG_STREAM_MAXLEN: CAP });
  });

  afterAll(async () => {
    await log.onApplicationShutdown();
    redis.disconnect();
    await deleteKeys(ns);
  });

  it('hole 10: an admin outage cannot grow the requests stream past its cap, and what is cut unread is counted', async () => {
    // The admin's group exists but reads nothing: the admin is down.
    await redis.xgroup('CREATE', stream, StreamGroups.RequestLoggers, '0', 'MKSTREAM');
    await record(0, 5000);
    const length = await redis.xlen(stream);
    // Approximate: trimmed by whole nodes of the stream, never below the cap.
    expect(length).toBeGreaterThanOrEqual(CAP);
    expect(length).toBeLessThan(CAP + 200);
    expect(await cut()).toBe(5000 - length);

    // The admin comes back and reads part of the backlog: what it read is not counted when cut.
    const read = (await redis.xreadgroup('GROUP', StreamGroups.RequestLoggers, 'admin-1', 'COUNT', 600, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
    const delivered = read[0]![1];
    expect(delivered).toHaveLength(600);
    await redis.xack(stream, StreamGroups.RequestLoggers, ...delivered.map(([id]) => id));
    await record(5000, 3000);
    const lastDelivered = delivered.at(-1)![0];
    const undeliveredLeft = (await redis.xrange(stream, `(${lastDelivered}`, '+')).length;
    // Every entry is delivered, cut unread, or still waiting in the stream.
    expect(await cut()).toBe(8000 - 600 - undeliveredLeft);
    expect(await redis.xlen(stream)).toBeLessThan(CAP + 200);
  });

  it('caps a stream that does not exist yet, written in one go past its cap', async () => {
    const other = new RequestLogService(redis, new Naming(`${ns}x`), new MetricsService(), { REQUEST_LOG_STREAM_MAXLEN: 100 });
    // The first 256 go in one flush, to a stream that is not there yet.
    for (let i = 0; i < 500; i++) other.record(...served(i));
    while (other.pending > 0) {
      await other.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const length = await redis.xlen(new Naming(`${ns}x`).key(Streams.Requests));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300);
    await other.onApplicationShutdown();
    await redis.del(new Naming(`${ns}x`).key(Streams.Requests));
  });
});
