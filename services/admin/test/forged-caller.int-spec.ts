import { describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AdminRpc, type DeadLetter, type EventEnvelope } from '@flotilla/contracts';
import { AmqpHeaders, topologyNames } from '@flotilla/messaging';
import { eventSignature, forgedCalls, forgedSignature, rawBroker, type RawBroker, REFUSED, waitFor } from '@flotilla/testing';
import { adminUnderTest, ADMIN, payloadId } from './admin-under-test.js';

jest.setTimeout(120_000);

const MEMBER = { userId: randomUUID(), role: 'member' as const, teamId: randomUUID() };

/**
 * The admin service refuses what anything on the broker could send without the services'
 * key: its patterns with a forged actor and a missing, foreign or expired caller token or a
 * member's token, and audit events without the platform's signature — collected as dead
 * letters, and refused again when replayed, while a replayed letter that the platform
 * signed keeps its signature and is taken.
 */
describe('admin: a caller the platform did not sign is refused', () => {
  const t = adminUnderTest();
  let broker: RawBroker;
  const auditRows = async (ids: string[]): Promise<number> =>
    (await t.db.query(`SELECT 1 FROM "${t.schema}".audit WHERE id = ANY($1::uuid[])`, [ids])).rowCount ?? 0;
  const letterOf = async (id: string): Promise<DeadLetter | undefined> => (await t.all()).find((l) => payloadId(l) === id);
  const audit = () => ({ action: 'user.role_changed', outcome: 'success', actorId: randomUUID(), target: `user:${randomUUID()}`, details: { forged: true } });

  it('refuses a cleanup run and the figures with a forged actor: no token, a foreign key, an expired token, a member\'s token', async () => {
    broker = await rawBroker(t.naming);
    expect(await forgedCalls(broker, 'admin', AdminRpc.RunCleanup, {}, ADMIN, MEMBER)).toEqual(REFUSED);
    expect(await forgedCalls(broker, 'admin', AdminRpc.DiscardDeadLetters, { filter: {} }, ADMIN, MEMBER)).toEqual(REFUSED);
    expect((await t.db.query(`SELECT 1 FROM "${t.schema}".cleanup_runs WHERE trigger = 'manual'`)).rowCount).toBe(0);
  });

  it('dead-letters audit events without a signature or with a forged one; none is written to the audit log', async () => {
    const unsigned = await broker.event('audit.user.role_changed', audit());
    const forged = await broker.event('audit.user.role_changed', audit(), forgedSignature());
    const signed = await broker.event('audit.user.role_changed', audit(), {}, 'flotilla-dev-internal-token-secret-change-me');
    await waitFor(async () => ((await letterOf(unsigned)) && (await letterOf(forged)) ? true : undefined), { what: 'both forged events collected as dead letters' });
    await waitFor(async () => ((await auditRows([signed])) === 1 ? true : undefined), { what: 'the signed event in the audit log' });
    expect(await auditRows([unsigned, forged])).toBe(0);
    expect((await letterOf(unsigned))?.source).toBe(topologyNames(t.naming, 'admin').deadLetterQueue);
  });

  it('a replayed letter keeps the platform\'s signature and is taken; a forged letter replayed is refused again', async () => {
    const dlq = topologyNames(t.naming, 'admin');
    const put = (event: EventEnvelope, headers: Record<string, unknown>): void => {
      t.channel.publish(dlq.deadLetterExchange, dlq.deadLetterQueue, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/json',
        type: event.type,
        messageId: event.id,
        headers: { ...headers, [AmqpHeaders.RetryCount]: 4, [AmqpHeaders.Error]: 'it broke', [AmqpHeaders.FailedAt]: new Date().toISOString() },
      });
    };
    const envelope = (): EventEnvelope => ({ id: randomUUID(), type: 'audit.user.role_changed', occurredAt: new Date().toISOString(), source: 'gateway', correlationId: randomUUID(), data: audit() });
    const genuine = envelope();
    const forged = envelope();
    put(genuine, eventSignature(genuine.id, genuine.type, Buffer.from(JSON.stringify(genuine)), 'gateway'));
    put(forged, forgedSignature());
    await t.channel.waitForConfirms();
    const [good, bad] = await waitFor(async () => {
      const letters = await Promise.all([letterOf(genuine.id), letterOf(forged.id)]);
      return letters[0] && letters[1] ? (letters as DeadLetter[]) : undefined;
    }, { what: 'both letters collected' });

    expect((await t.call<DeadLetter>(AdminRpc.ReplayDeadLetter, { id: good!.id })).status).toBe('replayed');
    expect((await t.call<DeadLetter>(AdminRpc.ReplayDeadLetter, { id: bad!.id })).status).toBe('replayed');
    await waitFor(async () => ((await auditRows([genuine.id])) === 1 ? true : undefined), { what: 'the replayed genuine event in the audit log' });
    const again = await waitFor(async () => {
      const letter = await letterOf(forged.id);
      return letter?.status === 'dead' && letter.replays === 1 ? letter : undefined;
    }, { what: 'the replayed forged letter dead again' });
    expect(again.error).toMatch(/signature/);
    expect(await auditRows([forged.id])).toBe(0);
  });

  it('closes the raw connection', async () => {
    await broker.close();
  });
});
