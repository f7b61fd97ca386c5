import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { deadLetterToFields } from '@flotilla/messaging';
import { migrateSchema, type PersistenceOptions } from '@flotilla/persistence';
import { dropSchemas, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';
import { PERSISTENCE } from '../src/app.module.js';
import { streamOriginId } from '../src/dead-letters/collector.js';
import { Admin1732800000000 } from '../src/migrations/1732800000000-admin.js';

const TIMEOUTS = { statementMs: 60_000, idleInTransactionMs: 60_000 };

/** Rows written before dead letters had states keep what they say, and a stream letter becomes known by its fields. */
describe('admin: the dead-letter states migration', () => {
  const ns = uniqueNamespace();
  const schema = new Naming(ns).schema('admin');

  afterAll(() => dropSchemas(ns));

  it('gives existing letters a history and replay count, and keys the newest of equal stream letters by their fields', async () => {
    const before: PersistenceOptions = { ...PERSISTENCE, migrations: [Admin1732800000000] };
    await migrateSchema(TEST_DATABASE_URL, schema, before, TIMEOUTS);
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const vote = { voteId: randomUUID(), pollId: randomUUID(), option: 'red' };
      const raw = (error: string): string =>
        JSON.stringify(deadLetterToFields({ stream: 'votes', group: 'g', id: '1-0', fields: vote, error, deliveries: 5, consumer: 'c', at: new Date().toISOString() }));
      const insert = (id: string, kind: string, originId: string, status: string, failedAt: string, rawText: string): Promise<unknown> =>
        db.query(
          `INSERT INTO "${schema}".dead_letters (id, kind, source, origin_id, type, error, failed_at, attempts, payload, raw, status, handled_at)
           VALUES ($1, $2, 'votes', $3, 't', 'e', $4, 5, '{}', $5, $6, CASE WHEN $6 = 'dead' THEN NULL ELSE $4::timestamptz + interval '1 minute' END)`,
          [id, kind, originId, failedAt, rawText, status],
        );
      const [older, newer, queue] = [randomUUID(), randomUUID(), randomUUID()];
      // The same vote dead-lettered, replayed, and dead-lettered again: two rows before.
      await insert(older, 'stream', `1-0:100-0`, 'replayed', '2026-01-01T00:00:00Z', raw('first'));
      await insert(newer, 'stream', `1-0:200-0`, 'dead', '2026-01-02T00:00:00Z', raw('second'));
      await insert(queue, 'queue', `m1:abc`, 'discarded', '2026-01-03T00:00:00Z', Buffer.from('{}').toString('base64'));

      await migrateSchema(TEST_DATABASE_URL, schema, PERSISTENCE, TIMEOUTS);

      const { rows } = await db.query<{ id: string; origin_id: string; status: string; replays: number; history: { event: string }[] }>(
        `SELECT id, origin_id, status, replays, history FROM "${schema}".dead_letters ORDER BY failed_at`,
      );
      expect(rows.map((r) => [r.id, r.origin_id, r.status, r.replays, r.history.map((h) => h.event)])).toEqual([
        [older, '1-0:100-0', 'replayed', 1, ['dead', 'replayed']],
        [newer, streamOriginId(vote), 'dead', 0, ['dead']],
        [queue, 'm1:abc', 'discarded', 0, ['dead', 'discarded']],
      ]);
      await expect(db.query(`UPDATE "${schema}".dead_letters SET status = 'replaying' WHERE id = $1`, [newer])).rejects.toThrow(/dead_letters_claim_check/);
    } finally {
      await db.end();
    }
  });
});
