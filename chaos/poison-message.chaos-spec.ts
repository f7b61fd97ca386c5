import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { DatasetEvents, Streams, type DeadLetter } from '@flotilla/contracts';
import { createRedisClient, topologyNames, waitUntilReady } from '@flotilla/messaging';
import { png } from '@flotilla/samples';
import { publishSigned, TEST_AMQP_URL, TEST_REDIS_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { uploadAndValidate } from '../e2e/support/datasets.js';
import { report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: a poison message / stream entry — retried with backoff, then
 * dead-lettered with its error; the consumer keeps going. Poison for the validator's
 * queue (unparsable, malformed, and a job that fails every attempt) and for the votes
 * stream (an entry Postgres refuses every time), with good work flowing around them.
 */
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 700;
const CLAIM_IDLE_MS = 1000;

describe('fault: poison messages and stream entries', () => {
  const platform = new Platform(
    {
      VALIDATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      VALIDATION_RETRY_DELAY_MS: String(RETRY_DELAY_MS),
      VOTE_MAX_DELIVERIES: String(MAX_ATTEMPTS),
      VOTE_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS),
      VOTE_BLOCK_MS: '200',
      DEAD_LETTER_POLL_MS: '300',
      RATE_LIMIT_PER_USER: '100000',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'admin'],
  );
  let admin: string;
  let member: string;
  let unparsable: DeadLetter | undefined;

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'poisoned' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'p@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    member = await platform.api.login('p@chaos.test', 'member-password-123');
  }, 120_000);

  afterAll(() => platform.stop());

  it('retries each with backoff, dead-letters it with its error, and keeps going', async () => {
    const naming = new Naming(platform.namespace);
    const exchange = topologyNames(naming, 'validator').eventsExchange;
    const doomedJob = randomUUID();
    const malformedId = randomUUID();
    const envelope = (data: unknown, id = randomUUID()) => ({ id, type: DatasetEvents.Uploaded, occurredAt: new Date().toISOString(), source: 'upload', correlationId: randomUUID(), data });
    const datasetId = randomUUID();
    const doomed = envelope({
      datasetId,
      jobId: doomedJob,
      teamId: randomUUID(),
      profile: 'xray',
      options: {},
      queuedAt: new Date().toISOString(),
      files: [{ fileId: randomUUID(), filename: 'gone.png', contentType: 'image/png', sizeBytes: 10, key: `datasets/${datasetId}/x/gone.png` }],
    });
    const connection = await amqp.connect(TEST_AMQP_URL);
    const publishedAt = Date.now();
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(exchange, DatasetEvents.Uploaded, Buffer.from('{this is not json'), { persistent: true });
      publishSigned(channel, exchange, DatasetEvents.Uploaded, envelope({ datasetId: 'not-a-uuid', files: 'none' }, malformedId), { persistent: true });
      publishSigned(channel, exchange, DatasetEvents.Uploaded, doomed, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }

    // A stream entry Postgres refuses every time (year 0 is no timestamp), among good votes.
    const redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'poison-test' });
    await waitUntilReady(redis, 5000);
    let poisonId: string;
    const poisonVoteId = randomUUID();
    try {
      poisonId = (await redis.xadd(naming.key(Streams.Votes), '*', 'voteId', poisonVoteId, 'pollId', 'cats-vs-dogs', 'option', 'cats', 'voterId', randomUUID(), 'ip', '192.0.2.1', 'userAgent', 'poison/1', 'requestId', randomUUID(), 'at', '0000-01-01T00:00:00Z'))!;
    } finally {
      redis.disconnect();
    }
    const streamPoisonAt = Date.now();

    // Good work around the poison: votes and a dataset, through the API.
    const votes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await platform.api.request<{ voteId: string }>('POST', '/api/v1/polls/cats-vs-dogs/votes', { token: member, body: { option: i % 2 ? 'cats' : 'dogs' } });
      expect(res.status).toBe(202);
      votes.push(res.body.voteId);
    }
    const good = await uploadAndValidate(platform.api, member, 'healthy', 'xray', [
      { filename: 'ok.png', contentType: 'image/png', content: png({ width: 64, height: 64 }) },
      { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from('filename,label\nok.png,normal\n') },
    ]);

    const letters = await waitFor(
      async () => {
        const res = await platform.api.request<{ items: DeadLetter[] }>('GET', '/api/v1/admin/dead-letters', { token: admin });
        if (res.status !== 200) throw new Error(`dead letters: ${res.status} ${JSON.stringify(res.body)}`);
        const items = res.body.items;
        const found = {
          // Not JSON: the admin list has no payload to show for it.
          unparsable: items.find((d) => d.kind === 'queue' && d.source.endsWith('validator.events.dlq') && (d.payload === null || JSON.stringify(d.payload).includes('this is not json'))),
          malformed: items.find((d) => d.kind === 'queue' && JSON.stringify(d.payload).includes(malformedId)),
          exhausted: items.find((d) => d.kind === 'queue' && JSON.stringify(d.payload).includes(doomedJob)),
          stream: items.find((d) => d.kind === 'stream' && JSON.stringify(d.payload).includes(poisonVoteId)),
        };
        return Object.values(found).every(Boolean) ? { ...found, all: items } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300, what: 'the four dead letters in the admin list' },
    ).catch(async (error: Error) => {
      const items = (await platform.api.request<{ items: DeadLetter[] }>('GET', '/api/v1/admin/dead-letters', { token: admin })).body.items ?? [];
      console.log(`dead letters listed: ${items.map((d) => `${d.kind} ${d.source} ${d.type} "${d.error}" ${d.attempts} ${JSON.stringify(d.payload).slice(0, 200)}`).join('\n  ') || 'none'}`);
      throw error;
    });
    const lettersAt = Date.now();
    unparsable = letters.unparsable;
    const jobs = await ServiceDb.open(platform.namespace, 'validation');
    const votesDb = await ServiceDb.open(platform.namespace, 'votes');
    try {
      const [job] = await jobs.rows<{ status: string; attempts: number; last_error: string }>('SELECT status, attempts, last_error FROM jobs WHERE id = $1', [doomedJob]);
      await waitFor(async () => (await votesDb.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [votes])) === votes.length, { what: 'the good votes' });
      const poisonRecorded = await votesDb.scalar('SELECT count(*) AS n FROM vote_events WHERE stream_id = $1', [poisonId]);
      const metrics = await (await fetch(`${platform.service('validator').url}/metrics`)).text();
      const deadTotal = metrics.split('\n').filter((l) => l.startsWith('dead_letters_total')).map((l) => Number(l.split(' ').pop())).reduce((a, b) => a + b, 0);
      const l = letters;
      const after = (d: DeadLetter | undefined, from: number): string => (d ? `${((Date.parse(d.failedAt) - from) / 1000).toFixed(1)} s` : '?');
      report(
        'poison messages and stream entries',
        {
          sent: 4 + votes.length + 1,
          found: [l.unparsable, l.malformed, l.exhausted, l.stream].filter(Boolean).length + votes.length + (good.verdict.status === 'passed' ? 1 : 0),
          duplicated: l.all.filter((d) => JSON.stringify(d.payload).includes(doomedJob)).length - 1,
          errors: 4,
          'validator dead_letters_total': deadTotal,
        },
        [
          `unparsable → "${l.unparsable!.error}" after ${l.unparsable!.attempts} attempt(s), ${after(l.unparsable, publishedAt)}`,
          `malformed → "${l.malformed!.error}" after ${l.malformed!.attempts} attempt(s), ${after(l.malformed, publishedAt)}`,
          `failing every attempt → job ${job?.status} after ${job?.attempts} attempts ("${job?.last_error}"), dead-lettered ${after(l.exhausted, publishedAt)} after publishing (retry delay ${RETRY_DELAY_MS} ms); letter "${l.exhausted!.error}"`,
          `stream entry → "${l.stream!.error}" after ${l.stream!.attempts} deliveries, ${after(l.stream, streamPoisonAt)} after it was added (claim idle ${CLAIM_IDLE_MS} ms); in the audit: ${poisonRecorded}`,
          `meanwhile: ${votes.length} good votes persisted, a good dataset ${good.verdict.status}; everything published ${((lettersAt - publishedAt) / 1000).toFixed(1)} s before the letters were all listed`,
        ],
      );
      expect(l.unparsable!.attempts).toBeLessThanOrEqual(1); // its error and content: see the next test
      expect(l.malformed!.error).toMatch(/malformed/);
      expect(l.malformed!.attempts).toBeLessThanOrEqual(1);
      expect(job).toMatchObject({ status: 'error', attempts: MAX_ATTEMPTS });
      expect(l.exhausted!.error).toMatch(new RegExp(`failed ${MAX_ATTEMPTS} time\\(s\\)`));
      expect(l.stream!.error.length).toBeGreaterThan(0);
      expect(l.stream!.attempts).toBe(MAX_ATTEMPTS);
      expect(poisonRecorded).toBe(0);
      expect(good.verdict.status).toBe('passed');
      // Backoff: the failing job's attempts were spread over at least the retry delays.
      expect(Date.parse(l.exhausted!.failedAt) - publishedAt).toBeGreaterThanOrEqual((MAX_ATTEMPTS - 1) * RETRY_DELAY_MS);
      expect(Date.parse(l.stream!.failedAt) - streamPoisonAt).toBeGreaterThanOrEqual((MAX_ATTEMPTS - 1) * CLAIM_IDLE_MS);
    } finally {
      await jobs.close();
      await votesDb.close();
    }
    await sleep(0);
  });

  // A message that is not an event envelope goes to the DLQ with the reason, and the
  // admin shows its content as text.
  it('an unparsable message is dead-lettered with an error saying why, and its content', () => {
    console.log(`unparsable message's dead letter: error "${unparsable?.error}", payload ${JSON.stringify(unparsable?.payload)}`);
    expect(unparsable).toBeDefined();
    expect(unparsable!.error).not.toMatch(/^rejected/);
    expect(JSON.stringify(unparsable!.payload)).toContain('this is not json');
  });
});
