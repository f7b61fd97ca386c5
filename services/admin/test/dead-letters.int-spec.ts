import { describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AdminRpc, Streams, type DeadLetter } from '@flotilla/contracts';
import { topologyNames } from '@flotilla/messaging';
import { waitFor } from '@flotilla/testing';
import { adminUnderTest, fieldsOf, outcome, payloadId } from './admin-under-test.js';
import { ALWAYS_FAILS, deadLetterEntry, deadLetterEvent, envelope, voteFields } from './dead-letters-harness.js';

jest.setTimeout(120_000);

/**
 * Dead letters made as the platform makes them (a real EventConsumer whose handler
 * always fails, the dead-letter exchange, `<stream>:dead` entries as a StreamConsumer
 * writes them), the admin's patterns called over the bus as the gateway calls them,
 * and every send counted where it lands: messages on the target queue, entries on the
 * stream.
 */
describe('admin: dead letters, replayed and collected', () => {
  const t = adminUnderTest();
  const { naming } = t;
  const call = <T>(pattern: string, payload: unknown): Promise<T> => t.call<T>(pattern, payload);
  const page = (query: Record<string, unknown> = {}) => t.page(query);
  const all = () => t.all();
  const letterOf = async (predicate: (letter: DeadLetter) => boolean): Promise<DeadLetter | undefined> => (await all()).find(predicate);
  const messageCount = (queue: string): Promise<number> => t.messageCount(queue);

  it('hole 3: a replayed event that dead-letters again comes back dead with its new error, marked as replayed once', async () => {
    const event = await t.failing.publisher.publish(ALWAYS_FAILS, { case: 'dies again' });
    await waitFor(async () => (await t.failing.deadLettered()) === 1, { what: 'the event in the dead-letter queue' });
    const letter = await waitFor(() => letterOf((l) => payloadId(l) === event.id), { what: 'the collected dead letter' });
    expect(letter).toMatchObject({ kind: 'queue', status: 'dead', type: ALWAYS_FAILS, source: topologyNames(naming, 'upload').deadLetterQueue });
    expect(letter.error).toMatch(/handler failure #2$/);

    const replayed = await call<DeadLetter>(AdminRpc.ReplayDeadLetter, { id: letter.id });
    expect(replayed.status).toBe('replayed');
    // The replay fails twice more in the consumer, which dead-letters it again.
    await waitFor(async () => (await t.failing.deadLettered()) === 2, { what: 'the replayed event dead-lettered again' });
    await page(); // collects everything that was in the queue before it began
    await page();

    const again = (await all()).filter((l) => payloadId(l) === event.id);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: letter.id, status: 'dead', replays: 1 });
    expect(again[0]!.error).toMatch(/handler failure #4$/);
    expect((again[0]!.history ?? []).map((h) => h.event)).toEqual(['dead', 'replayed', 'dead']);
    expect(await messageCount(topologyNames(naming, 'upload').deadLetterQueue)).toBe(0);
  });

  it('hole 3: fifty replays of one dead-lettered event at once send it once', async () => {
    const event = envelope('test.validator');
    await deadLetterEvent(t.channel, naming, 'validator', event, 'it broke');
    await t.channel.waitForConfirms();
    const letter = await waitFor(() => letterOf((l) => payloadId(l) === event.id), { what: 'the collected dead letter' });
    const target = topologyNames(naming, 'validator').eventsQueue;
    expect(await messageCount(target)).toBe(0);

    const outcomes = await Promise.all(Array.from({ length: 50 }, () => outcome(call(AdminRpc.ReplayDeadLetter, { id: letter.id }))));

    expect(await messageCount(target)).toBe(1);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(Array(49).fill('CONFLICT'));
    expect((await letterOf((l) => l.id === letter.id))?.status).toBe('replayed');
    await t.channel.purgeQueue(target);
  });

  it('hole 3: fifty replays of one dead-lettered vote at once add it to the stream once', async () => {
    const votes = naming.key(Streams.Votes);
    const fields = voteFields();
    await deadLetterEntry(t.redis, votes, fields, 'vote failed');
    const letter = await waitFor(() => letterOf((l) => l.kind === 'stream' && fieldsOf(l).voteId === fields.voteId), { what: 'the collected vote' });
    const before = await t.redis.xlen(votes);

    const outcomes = await Promise.all(Array.from({ length: 50 }, () => outcome(call(AdminRpc.ReplayDeadLetter, { id: letter.id }))));

    expect((await t.redis.xlen(votes)) - before).toBe(1);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    const [[, flat]] = (await t.redis.xrevrange(votes, '+', '-', 'COUNT', 1)) as [string, string[]][];
    // The original fields, unchanged: the vote keeps its identity.
    expect(Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]))).toEqual(fields);
  });

  it('hole 3: a replayed vote that dies again comes back dead with its new error and replay count', async () => {
    const votes = naming.key(Streams.Votes);
    const fields = voteFields();
    await deadLetterEntry(t.redis, votes, fields, 'first failure');
    const letter = await waitFor(() => letterOf((l) => l.kind === 'stream' && fieldsOf(l).voteId === fields.voteId), { what: 'the collected vote' });
    await call(AdminRpc.ReplayDeadLetter, { id: letter.id });
    // The replayed entry runs out of deliveries again: the consumer moves it to votes:dead once more.
    await deadLetterEntry(t.redis, votes, fields, 'second failure');
    await page();

    const rows = (await all()).filter((l) => l.kind === 'stream' && fieldsOf(l).voteId === fields.voteId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: letter.id, status: 'dead', error: 'second failure', replays: 1 });
    expect(await t.redis.xlen(`${votes}:dead`)).toBe(0);
  });

  it('hole 4: entries of requests:dead are collected', async () => {
    const requests = naming.key(Streams.Requests);
    const fields = { method: 'GET', route: '/api/v1/polls', status: '200', correlationId: randomUUID() };
    await deadLetterEntry(t.redis, requests, fields, 'request log entry failed', 'request-loggers');
    const letter = await letterOf((l) => l.kind === 'stream' && fieldsOf(l).correlationId === fields.correlationId);
    expect(letter).toMatchObject({ kind: 'stream', source: requests, status: 'dead', error: 'request log entry failed' });
    expect(await t.redis.xlen(`${requests}:dead`)).toBe(0);
  });

  it('hole 4: the dead-letter queue of every service that consumes events is collected, not only a hand-kept few', async () => {
    const event = envelope('test.provisioner');
    await deadLetterEvent(t.channel, naming, 'provisioner', event, 'provisioner could not handle it');
    await t.channel.waitForConfirms();
    const letter = await letterOf((l) => payloadId(l) === event.id);
    expect(letter).toMatchObject({ kind: 'queue', source: topologyNames(naming, 'provisioner').deadLetterQueue, status: 'dead' });
    expect(await messageCount(topologyNames(naming, 'provisioner').deadLetterQueue)).toBe(0);
  });
});
