import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { Streams, type DeadLetterPage } from '@flotilla/contracts';
import { AmqpHeaders, deadLetterToFields, declareTopology, recordToFields, topologyNames, topologyResources } from '@flotilla/messaging';
import { deleteAmqp, TEST_AMQP_URL, TEST_REDIS_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

/**
 * The dead-letter routes of API.md (Admin) through the gateway, as an operator calls
 * them: problem+json for bad input, members refused, the list with its total, and a
 * bulk replay by filter with a dry run first, counted on the queue it sends to.
 */
describe('admin: dead letters over HTTP', () => {
  const platform = new Platform({ DEAD_LETTER_POLL_MS: '500' }, ['gateway', 'admin']);
  let naming: Naming;
  let admin: string;
  let member: string;
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let redis: Redis;

  const get = async (path: string): Promise<DeadLetterPage> => {
    const res = await platform.api.request<DeadLetterPage>('GET', `/api/v1/admin/dead-letters${path}`, { token: admin });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    await platform.start();
    naming = new Naming(platform.namespace);
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'dead-letters' } });
    const email = 'm@dead-letters.test';
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    member = await platform.api.login(email, 'member-password-123');
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createConfirmChannel();
    // The validator's queues, as its EventConsumer declares them; nothing consumes them here.
    await declareTopology(channel, naming, { service: 'validator', events: { routingKeys: ['test.e2e'], retryDelayMs: 60_000 } });
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    redis?.disconnect();
    await platform.stop();
    await deleteAmqp(topologyResources(naming, 'validator').queues);
  });

  it('refuses members on the bulk routes', async () => {
    for (const path of ['/admin/dead-letters/replay', '/admin/dead-letters/discard']) {
      const res = await platform.api.request('POST', `/api/v1${path}`, { token: member, body: { filter: {}, dryRun: true } });
      expect([path, res.status]).toEqual([path, 403]);
    }
  });

  it('answers bad input with a problem+json 400 naming it', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/admin/dead-letters/replay', undefined],
      ['POST', '/admin/dead-letters/replay', {}],
      ['POST', '/admin/dead-letters/discard', { ids: [randomUUID()], filter: { q: 'x' } }],
      ['POST', '/admin/dead-letters/discard', { ids: ['nope'] }],
      ['POST', '/admin/dead-letters/replay', { filter: {}, dryRun: 'yes' }],
      ['POST', '/admin/dead-letters/not-a-uuid/replay', undefined],
      ['DELETE', '/admin/dead-letters/not-a-uuid', undefined],
      ['GET', '/admin/dead-letters?limit=0', undefined],
      ['GET', '/admin/dead-letters?limit=501', undefined],
      ['GET', '/admin/dead-letters?status=lost', undefined],
      ['GET', '/admin/dead-letters?cursor=bm9wZQ', undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await platform.api.request<{ status?: number; errors?: unknown[] }>(method, `/api/v1${path}`, { token: admin, ...(body === undefined ? {} : { body }) });
      expect([method, path, res.status, res.headers.get('content-type')?.split(';')[0], res.body.status]).toEqual([method, path, 400, 'application/problem+json', 400]);
      expect([path, (res.body.errors ?? []).length > 0]).toEqual([path, true]);
    }
    expect((await platform.api.request('POST', `/api/v1/admin/dead-letters/${randomUUID()}/replay`, { token: admin })).status).toBe(404);
  });

  it('collects requests:dead and replays by filter after a dry run, each letter sent once', async () => {
    const requests = naming.key(Streams.Requests);
    const marker = randomUUID();
    const letter = deadLetterToFields({
      stream: requests,
      group: 'request-loggers',
      id: '1-0',
      fields: { method: 'GET', route: '/api/v1/polls', status: '200', correlationId: marker },
      error: `could not store ${marker}`,
      deliveries: 5,
      consumer: 'e2e',
      at: new Date().toISOString(),
    });
    await redis.xadd(`${requests}:dead`, '*', ...recordToFields(letter));
    const fromStream = await waitFor(async () => (await get(`?source=${encodeURIComponent(requests)}&q=${marker}`)).items[0], { what: 'the requests:dead entry' });
    expect(fromStream).toMatchObject({ kind: 'stream', source: requests, status: 'dead', replays: 0 });

    const type = `test.e2e.${randomUUID().slice(0, 8)}`;
    const names = topologyNames(naming, 'validator');
    for (let i = 0; i < 3; i++) {
      const event = { id: randomUUID(), type, occurredAt: new Date().toISOString(), source: 'e2e', correlationId: randomUUID(), data: { i } };
      channel.publish(names.deadLetterExchange, names.deadLetterQueue, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        messageId: event.id,
        type,
        headers: { [AmqpHeaders.Error]: `failed ${i}`, [AmqpHeaders.RetryCount]: 4, [AmqpHeaders.FailedAt]: new Date().toISOString() },
      });
    }
    await channel.waitForConfirms();
    const listed = await waitFor(async () => {
      const page = await get(`?q=${type}&limit=2`);
      return page.total === 3 ? page : undefined;
    }, { what: 'three collected letters' });
    expect([listed.items.length, listed.nextCursor !== null]).toEqual([2, true]);
    expect(listed.sources).toEqual(expect.arrayContaining([names.deadLetterQueue, requests]));

    const body = { filter: { source: names.deadLetterQueue, q: type } };
    const dry = await platform.api.request('POST', '/api/v1/admin/dead-letters/replay', { token: admin, body: { ...body, dryRun: true } });
    expect([dry.status, dry.body]).toEqual([200, { matched: 3, replayed: 0, dryRun: true }]);
    expect((await channel.checkQueue(names.eventsQueue)).messageCount).toBe(0);

    const [first, second] = await Promise.all([1, 2].map(() => platform.api.request<{ replayed: number }>('POST', '/api/v1/admin/dead-letters/replay', { token: admin, body })));
    expect([first!.status, second!.status]).toEqual([200, 200]);
    expect(first!.body.replayed + second!.body.replayed).toBe(3);
    expect((await channel.checkQueue(names.eventsQueue)).messageCount).toBe(3);
    expect((await get(`?q=${type}&status=replayed`)).total).toBe(3);
  });
});
