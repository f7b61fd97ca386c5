import { describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AdminRpc, AuditActions, Streams, type AuditEntry, type DeadLetter, type Page } from '@flotilla/contracts';
import { topologyNames } from '@flotilla/messaging';
import { waitFor } from '@flotilla/testing';
import { ADMIN, adminUnderTest, fieldsOf, outcome } from './admin-under-test.js';
import { deadLetterEntry, deadLetterEvent, envelope, voteFields } from './dead-letters-harness.js';

jest.setTimeout(120_000);

/** The dead-letter API beyond single replays: bulk actions, dry runs, search and paging, bad input, failed and interrupted replays. */
describe('admin: the dead-letter API', () => {
  const t = adminUnderTest();
  const { naming } = t;

  /** `n` events of `type` dead-lettered in `service`'s queue, collected; their letters. */
  async function deadEvents(service: string, type: string, n: number, error = 'it broke'): Promise<DeadLetter[]> {
    const ids = new Set<string>();
    for (let i = 0; i < n; i++) {
      const event = envelope(type);
      ids.add(event.id);
      await deadLetterEvent(t.channel, naming, service, event, `${error} (${i})`);
    }
    await t.channel.waitForConfirms();
    return waitFor(
      async () => {
        const letters = (await t.all({ q: type })).filter((l) => ids.has(String((l.payload as { id?: string }).id)));
        return letters.length === n ? letters : undefined;
      },
      { what: `${n} collected letters of ${type}` },
    );
  }
  const audited = async (action: string): Promise<AuditEntry[]> => (await t.call<Page<AuditEntry>>(AdminRpc.Audit, { action, limit: 500 })).items;

  it('replays in bulk by filter: a dry run sends nothing and says how many match, the replay sends each once', async () => {
    const type = `test.validator.bulk${randomUUID().slice(0, 8)}`;
    const letters = await deadEvents('validator', type, 3);
    await deadEvents('validator', `test.validator.other${randomUUID().slice(0, 8)}`, 1);
    const target = topologyNames(naming, 'validator').eventsQueue;
    await t.channel.purgeQueue(target);

    const dry = await t.call(AdminRpc.ReplayDeadLetters, { filter: { q: type }, dryRun: true });
    expect(dry).toEqual({ matched: 3, replayed: 0, dryRun: true });
    expect(await t.messageCount(target)).toBe(0);
    expect((await t.all({ q: type })).map((l) => l.status)).toEqual(['dead', 'dead', 'dead']);

    const done = await t.call(AdminRpc.ReplayDeadLetters, { filter: { q: type, source: topologyNames(naming, 'validator').deadLetterQueue } });
    expect(done).toEqual({ matched: 3, replayed: 3, dryRun: false });
    expect(await t.messageCount(target)).toBe(3);
    const after = await t.all({ q: type });
    expect(after.map((l) => [l.status, l.replays])).toEqual([['replayed', 1], ['replayed', 1], ['replayed', 1]]);
    expect(await t.call(AdminRpc.ReplayDeadLetters, { filter: { q: type } })).toEqual({ matched: 0, replayed: 0, dryRun: false });
    const replayedTargets = new Set((await audited(AuditActions.DeadLetterReplayed)).map((a) => a.target));
    for (const letter of letters) expect(replayedTargets.has(`dead-letter:${letter.id}`)).toBe(true);
    expect((await audited(AuditActions.DeadLettersReplayed)).some((a) => (a.details as { replayed?: number }).replayed === 3)).toBe(true);
    await t.channel.purgeQueue(target);
  });

  it('discards in bulk by ids, each audited; a dry run changes nothing', async () => {
    const type = `test.provisioner.discard${randomUUID().slice(0, 8)}`;
    const letters = await deadEvents('provisioner', type, 2);
    const ids = letters.map((l) => l.id);
    expect(await t.call(AdminRpc.DiscardDeadLetters, { ids, dryRun: true })).toEqual({ matched: 2, discarded: 0, dryRun: true });
    expect((await t.all({ q: type })).map((l) => l.status)).toEqual(['dead', 'dead']);
    expect(await t.call(AdminRpc.DiscardDeadLetters, { ids: [...ids, randomUUID()] })).toEqual({ matched: 2, discarded: 2, dryRun: false });
    expect((await t.all({ q: type })).map((l) => [l.status, l.history.at(-1)?.event, l.history.at(-1)?.by])).toEqual([
      ['discarded', 'discarded', ADMIN.userId],
      ['discarded', 'discarded', ADMIN.userId],
    ]);
    const targets = new Set((await audited(AuditActions.DeadLetterDiscarded)).map((a) => a.target));
    for (const id of ids) expect(targets.has(`dead-letter:${id}`)).toBe(true);
    expect(await outcome(t.call(AdminRpc.DiscardDeadLetter, { id: ids[0] }))).toBe('CONFLICT');
    expect(await outcome(t.call(AdminRpc.ReplayDeadLetter, { id: ids[0] }))).toBe('CONFLICT');
  });

  it('pages with a total, latest failure first, each letter once; q finds a letter by its id, type or error text', async () => {
    const type = `test.provisioner.page${randomUUID().slice(0, 8)}`;
    const letters = await deadEvents('provisioner', type, 7, 'page error');
    const pages = [];
    let cursor: string | null = null;
    do {
      const result = await t.page({ q: type, limit: 3, ...(cursor ? { cursor } : {}) });
      pages.push(result);
      cursor = result.nextCursor;
    } while (cursor);
    expect(pages.map((p) => [p.items.length, p.total])).toEqual([[3, 7], [3, 7], [1, 7]]);
    const seen = pages.flatMap((p) => p.items);
    expect(new Set(seen.map((l) => l.id))).toEqual(new Set(letters.map((l) => l.id)));
    const times = seen.map((l) => Date.parse(l.failedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(pages[0]!.sources).toEqual(expect.arrayContaining([topologyNames(naming, 'provisioner').deadLetterQueue, naming.key(Streams.Requests)]));

    const one = letters[4]!;
    expect((await t.page({ q: one.id })).items.map((l) => l.id)).toEqual([one.id]);
    expect((await t.page({ q: one.error, source: one.source })).items.map((l) => l.id)).toEqual([one.id]);
    expect((await t.page({ q: type, status: 'replayed' })).total).toBe(0);
    expect((await t.page({ q: type, source: 'no-such-queue' })).total).toBe(0);
  });

  it('refuses bad input with a validation error naming it', async () => {
    const refused: [string, unknown][] = [
      [AdminRpc.ReplayDeadLetters, {}],
      [AdminRpc.ReplayDeadLetters, undefined],
      [AdminRpc.ReplayDeadLetters, { ids: [randomUUID()], filter: { q: 'x' } }],
      [AdminRpc.ReplayDeadLetters, { ids: [] }],
      [AdminRpc.ReplayDeadLetters, { ids: ['not-a-uuid'] }],
      [AdminRpc.ReplayDeadLetters, { ids: Array.from({ length: 501 }, () => randomUUID()) }],
      [AdminRpc.DiscardDeadLetters, { filter: 'everything' }],
      [AdminRpc.DiscardDeadLetters, { filter: { status: 'dead' } }],
      [AdminRpc.DiscardDeadLetters, { filter: {}, dryRun: 'yes' }],
      [AdminRpc.DiscardDeadLetters, { filter: {}, extra: 1 }],
      [AdminRpc.DeadLetters, { limit: 0 }],
      [AdminRpc.DeadLetters, { limit: 501 }],
      [AdminRpc.DeadLetters, { status: 'lost' }],
      [AdminRpc.DeadLetters, { cursor: 'bm9wZQ' }],
      [AdminRpc.ReplayDeadLetter, { id: 'x' }],
      [AdminRpc.DiscardDeadLetter, {}],
    ];
    const outcomes = await Promise.all(refused.map(([pattern, payload]) => outcome(t.call(pattern, payload))));
    expect(outcomes).toEqual(refused.map(() => 'VALIDATION'));
    expect(await outcome(t.call(AdminRpc.ReplayDeadLetter, { id: randomUUID() }))).toBe('NOT_FOUND');
  });

  it('a replay whose send fails leaves the letter dead with the send error, not replayed', async () => {
    const votes = naming.key(Streams.Votes);
    const fields = voteFields();
    await deadLetterEntry(t.redis, votes, fields, 'vote failed');
    const letter = await waitFor(async () => (await t.all()).find((l) => l.kind === 'stream' && fieldsOf(l).voteId === fields.voteId), { what: 'the vote' });
    // The stream's key holds something else: XADD fails (WRONGTYPE).
    await t.redis.set(votes, 'not a stream');
    try {
      expect(await outcome(t.call(AdminRpc.ReplayDeadLetter, { id: letter.id }))).toBe('UNAVAILABLE');
    } finally {
      await t.redis.del(votes);
    }
    const failed = (await t.all()).find((l) => l.id === letter.id)!;
    expect(failed).toMatchObject({ status: 'dead', replays: 0 });
    expect(failed.error).toMatch(/^replay failed: WRONGTYPE/);
    expect(failed.history.map((h) => h.event)).toEqual(['dead', 'replay_failed']);

    expect((await t.call<DeadLetter>(AdminRpc.ReplayDeadLetter, { id: letter.id })).status).toBe('replayed');
    expect(await t.redis.xlen(votes)).toBe(1);
  });

  it('a replay interrupted before it finished goes back to dead once stale; a fresh one is left to its sender', async () => {
    const type = `test.validator.stale${randomUUID().slice(0, 8)}`;
    const [stale, fresh] = await deadEvents('validator', type, 2);
    // As a sender that claimed them and then crashed would leave them.
    await t.db.query(`UPDATE "${t.schema}".dead_letters SET status = 'replaying', claim_id = $2, claimed_at = now() - interval '10 minutes' WHERE id = $1`, [stale!.id, randomUUID()]);
    await t.db.query(`UPDATE "${t.schema}".dead_letters SET status = 'replaying', claim_id = $2, claimed_at = now() WHERE id = $1`, [fresh!.id, randomUUID()]);

    const letters = new Map((await t.all({ q: type })).map((l) => [l.id, l]));
    expect(letters.get(stale!.id)).toMatchObject({ status: 'dead', replays: 0 });
    expect(letters.get(stale!.id)!.error).toMatch(/^replay interrupted/);
    expect(letters.get(stale!.id)!.history.map((h) => h.event)).toEqual(['dead', 'replay_interrupted']);
    expect(letters.get(fresh!.id)!.status).toBe('replaying');
    expect(await outcome(t.call(AdminRpc.ReplayDeadLetter, { id: fresh!.id }))).toBe('CONFLICT');
    expect(await outcome(t.call(AdminRpc.ReplayDeadLetter, { id: stale!.id }))).toBe('ok');
    await t.channel.purgeQueue(topologyNames(naming, 'validator').eventsQueue);
  });
});
