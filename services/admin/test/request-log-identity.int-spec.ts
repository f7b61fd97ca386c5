import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { StreamGroups, Streams } from '@flotilla/contracts';
import { waitFor } from '@flotilla/testing';
import { adminUnderTest } from './admin-under-test.js';

/**
 * A request-log entry is identified by the id the gateway gave it, not by its stream id:
 * a replayed `requests:dead` entry (re-added with a new stream id, as a replay does) and
 * an entry delivered again after a crash between commit and XACK are stored once.
 */
describe('admin: request-log entries keep their identity through a replay', () => {
  const t = adminUnderTest();

  function entry(entryId: string, requestId: string): string[] {
    const fields: Record<string, string> = {
      entryId,
      requestId,
      method: 'POST',
      route: '/api/v1/polls/:pollId/votes',
      url: '/api/v1/polls/p/votes',
      status: '202',
      durationMs: '1.25',
      userId: randomUUID(),
      ip: '127.0.0.1',
      userAgent: 'test',
      requestBytes: '20',
      responseBytes: '40',
      at: new Date().toISOString(),
    };
    return Object.entries(fields).flat();
  }

  async function drained(stream: string): Promise<boolean> {
    const groups = (await t.redis.xinfo('GROUPS', stream)) as unknown[][];
    const group = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === t.naming.key(StreamGroups.RequestLoggers) || g.name === StreamGroups.RequestLoggers);
    return !!group && Number(group.pending) === 0 && Number(group.lag ?? 0) === 0;
  }

  it('an entry added twice (a replay of a dead letter) is stored once', async () => {
    const stream = t.naming.key(Streams.Requests);
    const requestId = randomUUID();
    const fields = entry(randomUUID(), requestId);
    await t.redis.xadd(stream, '*', ...fields);
    await waitFor(async () => (await t.db.query(`SELECT 1 FROM "${t.schema}".requests WHERE correlation_id = $1`, [requestId])).rowCount === 1, { what: 'the entry stored' });
    // The same entry again, as replaying it from requests:dead re-adds it: a new stream id.
    await t.redis.xadd(stream, '*', ...fields);
    // A different request that shares the client's correlation id is its own entry.
    await t.redis.xadd(stream, '*', ...entry(randomUUID(), requestId));
    await waitFor(() => drained(stream), { what: 'the admin to read and acknowledge every entry' });
    const { rows } = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.schema}".requests WHERE correlation_id = $1`, [requestId]);
    expect(Number(rows[0]!.n)).toBe(2);
  });
});
