import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { BaseEnv, loadEnv, Naming } from '@flotilla/config';
import { dropSchemas, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';
import pg from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runMigrations, type PersistenceOptions } from '../src/index.js';

class CreateLedger1700000000001 implements MigrationInterface {
  name = 'CreateLedger1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ledger (id bigserial PRIMARY KEY, note text NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger`);
  }
}

/** Slow and without any constraint to stop a second run: a race shows as a second row. */
class SeedLedger1700000000002 implements MigrationInterface {
  name = 'SeedLedger1700000000002';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pg_sleep(0.3)`);
    await q.query(`INSERT INTO ledger (note) VALUES ('seed')`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM ledger WHERE note = 'seed'`);
  }
}

const OPTIONS: PersistenceOptions = { owner: 'lockcheck', entities: [], migrations: [CreateLedger1700000000001, SeedLedger1700000000002], poolSize: 2 };

describe('migrations of replicas starting together', () => {
  const namespace = uniqueNamespace();
  const schema = new Naming(namespace).schema(OPTIONS.owner);

  afterAll(async () => {
    await dropSchemas(namespace);
  });

  it('hole 8: four migration runs at once on a fresh schema run each migration once, without an error', async () => {
    const env = loadEnv(BaseEnv, { NAMESPACE: namespace, DATABASE_URL: TEST_DATABASE_URL });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => runMigrations(env, OPTIONS)));

    const errors = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(errors).toEqual([]);
    // Exactly one run applied the migrations; the others found them done.
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(applied.sort()).toEqual(['CreateLedger1700000000001', 'SeedLedger1700000000002']);

    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const migrations = await client.query<{ name: string }>(`SELECT name FROM "${schema}".migrations ORDER BY id`);
      expect(migrations.rows.map((r) => r.name)).toEqual(['CreateLedger1700000000001', 'SeedLedger1700000000002']);
      const seeds = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".ledger`);
      expect(seeds.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });
});
