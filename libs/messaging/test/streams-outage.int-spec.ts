import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { deleteKeys, freePort, PostgresGate, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import {
  createRedisClient,
  isDependencyUnavailable,
  fieldsToRecord,
  parseDeadLetter,
  StreamConsumer,
  waitUntilReady,
  xadd,
  type StreamConsumerOptions,
  type StreamEntry,
} from '@flotilla/messaging';

jest.setTimeout(120_000);

describe('StreamConsumer through a dependency outage', () => {
  const ns = uniqueNamespace();
  const schema = `${ns.replace(/[^a-z0-9_]/gi, '_')}_outage`;
  let redis: Redis;
  let admin: pg.Client;

  beforeAll(async () => {
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'streams-outage-test' });
    expect(await waitUntilReady(redis, 5000)).toBe(true);
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".done (id text PRIMARY KEY, commits int NOT NULL DEFAULT 1)`);
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await deleteKeys(ns);
    await redis.quit();
  });

  it('hole 1: a Postgres outage longer than every retry budget dead-letters nothing', async () => {
    const stream = `${ns}:outage`;
    const gate = new PostgresGate(await freePort());
    await gate.open();
    const pool = new pg.Pool({ host: '127.0.0.1', port: gate.port, user: 'postgres', database: new URL(TEST_DATABASE_URL).pathname.slice(1) || 'postgres', max: 4, connectionTimeoutMillis: 1000 });
    pool.on('error', () => undefined);
    const failures: unknown[] = [];
    // Each entry's commits are counted in the table: processed once means one commit each.
    const handler = async (entries: StreamEntry[]): Promise<void> => {
      try {
        await pool.query(
          `INSERT INTO "${schema}".done (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO UPDATE SET commits = done.commits + 1`,
          [entries.map((e) => e.fields.n)],
        );
      } catch (error) {
        failures.push(error);
        throw error;
      }
    };
    const claimIdleMs = 300;
    const maxDeliveries = 2;
    const consumers: StreamConsumer[] = [];
    const startConsumer = async (name: string): Promise<StreamConsumer> => {
      const options: StreamConsumerOptions = { redis, stream, group: 'writers', consumer: name, handler, batchSize: 10, blockMs: 100, claimIdleMs, maxDeliveries, trimIntervalMs: 200 };
      const c = new StreamConsumer(options);
      consumers.push(c);
      await c.start();
      return c;
    };
    let n = 0;
    const add = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) await xadd(redis, stream, { n: String(n++) });
    };
    try {
      const first = await startConsumer('one');
      await startConsumer('two');
      await add(20);
      await waitFor(async () => Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".done`)).rows[0].n) === 20, { what: 'the entries before the outage' });

      // Postgres goes away for much longer than claimIdleMs × maxDeliveries, while entries keep coming.
      await gate.close();
      const outageStarted = Date.now();
      await add(30);
      await waitFor(() => failures.length >= 3, { what: 'the handler to fail on the outage' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // One instance restarts mid-outage: a new consumer of the same group.
      await first.stop();
      await startConsumer('three');
      await add(10);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const outageMs = Date.now() - outageStarted;
      await gate.open();

      // Every entry ends committed or dead-lettered; the test then says which.
      const settled = async (): Promise<boolean> =>
        Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".done`)).rows[0].n) + (await redis.xlen(`${stream}:dead`)) === 60;
      await waitFor(settled, { timeoutMs: 30_000, what: 'every entry after the outage' });
      await waitFor(async () => Number(((await redis.xpending(stream, 'writers')) as [number])[0]) === 0, { what: 'nothing pending' });

      expect(outageMs).toBeGreaterThan(claimIdleMs * maxDeliveries * 5);
      expect(failures.every((e) => isDependencyUnavailable(e))).toBe(true);
      expect(await redis.xlen(`${stream}:dead`)).toBe(0);
      expect(consumers.reduce((sum, c) => sum + c.deadLettered, 0)).toBe(0);
      // The outage records went with the acks.
      expect(await redis.exists(`${stream}:outages:writers`)).toBe(0);
      const commits = (await admin.query<{ commits: number; n: string }>(`SELECT commits, count(*) AS n FROM "${schema}".done GROUP BY commits`)).rows;
      expect(commits.map((r) => [r.commits, Number(r.n)])).toEqual([[1, 60]]);
      console.log(`outage of ${outageMs} ms (claimIdleMs ${claimIdleMs} × maxDeliveries ${maxDeliveries}): ${failures.length} failed handler calls, 0 dead letters, 60 entries committed once each`);
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
      await gate.close();
      await pool.end();
    }
  });

  it('a poison entry held through an outage is still dead-lettered after maxDeliveries deliveries of its own, the others committed once', async () => {
    const stream = `${ns}:poison`;
    const gate = new PostgresGate(await freePort());
    const pool = new pg.Pool({ host: '127.0.0.1', port: gate.port, user: 'postgres', database: new URL(TEST_DATABASE_URL).pathname.slice(1) || 'postgres', max: 2, connectionTimeoutMillis: 1000 });
    pool.on('error', () => undefined);
    // Postgres refuses 'x' as an integer every time: a fault of the entry, not an outage.
    const handler = async (entries: StreamEntry[]): Promise<void> => {
      await pool.query(`INSERT INTO "${schema}".done (id) SELECT 'p' || unnest($1::int[]) ON CONFLICT (id) DO UPDATE SET commits = done.commits + 1`, [entries.map((e) => e.fields.n)]);
    };
    const c = new StreamConsumer({ redis, stream, group: 'writers', consumer: 'poisoned', handler, batchSize: 10, blockMs: 100, claimIdleMs: 300, maxDeliveries: 2 });
    try {
      for (const n of ['1', '2', 'x', '3']) await xadd(redis, stream, { n });
      // Down from the start, for several times claimIdleMs × maxDeliveries.
      await c.start();
      await waitFor(() => c.stats.outageFailures >= 2, { what: 'the outage to be seen' });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await gate.open();
      await waitFor(async () => (await redis.xlen(`${stream}:dead`)) === 1, { timeoutMs: 20_000, what: 'the poison entry dead-lettered' });
      await waitFor(async () => Number(((await redis.xpending(stream, 'writers')) as [number])[0]) === 0, { what: 'nothing pending' });
      const [[, flat]] = (await redis.xrange(`${stream}:dead`, '-', '+')) as [string, string[]][];
      const letter = parseDeadLetter(fieldsToRecord(flat!));
      expect(letter.fields.n).toBe('x');
      expect(letter.deliveries).toBe(2);
      expect(letter.error).toMatch(/invalid input syntax for type integer/);
      const commits = (await admin.query<{ id: string; commits: number }>(`SELECT id, commits FROM "${schema}".done WHERE id LIKE 'p%' ORDER BY id`)).rows;
      expect(commits).toEqual([{ id: 'p1', commits: 1 }, { id: 'p2', commits: 1 }, { id: 'p3', commits: 1 }]);
      expect(await redis.exists(`${stream}:outages:writers`)).toBe(0);
    } finally {
      await c.stop();
      await gate.close();
      await pool.end();
    }
  });
});
