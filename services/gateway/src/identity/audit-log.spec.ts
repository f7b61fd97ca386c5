import { afterEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { AuditActions, type AuditEventData } from '@flotilla/contracts';
import type { Outbox } from '@flotilla/messaging';
import { AuditLog } from './audit-log.js';

/** Audit entries as the outbox would store them, and how many database transactions wrote them. */
function recorder() {
  const written: AuditEventData[] = [];
  let writes = 0;
  const outbox = { add: async (_runner: unknown, _type: string, entry: AuditEventData) => void written.push(entry), flush: () => undefined } as unknown as Outbox;
  const dataSource = {
    transaction: async (work: (m: unknown) => Promise<void>) => {
      writes += 1;
      await work({});
    },
    query: async () => undefined,
  } as unknown as DataSource;
  return { log: new AuditLog(dataSource, outbox), written, writes: () => writes };
}

const refusal = (email: string): AuditEventData => ({ action: AuditActions.LoginThrottled, outcome: 'failure', actorId: null, actorEmail: email, ip: '10.0.0.1', details: { retryAfterSeconds: 60 } });

describe('AuditLog.recordRefusal', () => {
  let log: AuditLog | undefined;
  afterEach(() => log?.onModuleDestroy());

  it('writes the first refusal of a window at once and sums the later ones per key into one entry per flush', async () => {
    const r = recorder();
    log = r.log;
    await r.log.recordRefusal('login:account:a', refusal('a'), true);
    expect(r.written.map((e) => e.details)).toEqual([{ retryAfterSeconds: 60, refusals: 1 }]);
    for (let i = 0; i < 40; i++) await r.log.recordRefusal('login:account:a', refusal('a'), false);
    for (let i = 0; i < 5; i++) await r.log.recordRefusal('login:account:b', refusal('b'), false);
    expect(r.written).toHaveLength(1);
    await r.log.flushRefusals();
    expect(r.written.slice(1).map((e) => [e.actorEmail, e.details?.refusals])).toEqual([
      ['a', 40],
      ['b', 5],
    ]);
    // One transaction for the batch, and nothing left to write after it.
    const writes = r.writes();
    await r.log.flushRefusals();
    expect(r.writes()).toBe(writes);
  });

  it('writes what is pending when the gateway stops', async () => {
    const r = recorder();
    await r.log.recordRefusal('login:ip:10.0.0.1', refusal('c'), false);
    await r.log.onModuleDestroy();
    expect(r.written.map((e) => e.details?.refusals)).toEqual([1]);
  });
});
