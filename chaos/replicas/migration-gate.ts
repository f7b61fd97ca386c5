import pg from 'pg';
import { Naming } from '@flotilla/config';
import { TEST_DATABASE_URL, waitFor } from '@flotilla/testing';

/**
 * Makes the instances of each service migrate at the same moment, however far apart
 * their processes boot: the gate creates each schema in a transaction it keeps open, so
 * every instance's first step (creating its schema, or waiting for the migration lock of
 * one that is creating it) waits on the gate; once all are waiting, the gate rolls back
 * and they go on together.
 */
export class MigrationGate {
  private constructor(
    private readonly holders: pg.Client[],
    private readonly observer: pg.Client,
  ) {}

  static async close(namespace: string, owners: string[]): Promise<MigrationGate> {
    const naming = new Naming(namespace);
    const connect = async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      return client;
    };
    const holders = await Promise.all(
      owners.map(async (owner) => {
        const client = await connect();
        await client.query('BEGIN');
        await client.query(`CREATE SCHEMA "${naming.schema(owner)}"`);
        return client;
      }),
    );
    // Not one of the holders: a transaction sees pg_stat_activity as it was when it first looked.
    return new MigrationGate(holders, await connect());
  }

  /**
   * Waits until `sessions` sessions wait on a lock at the start of a migration (creating
   * one of the namespace's schemas, or taking a migration lock), or `timeoutMs` passes,
   * then opens; resolves with how many were waiting.
   */
  async openWhenWaiting(namespace: string, sessions: number, timeoutMs: number): Promise<number> {
    const waiting = async (): Promise<number> => {
      const { rows } = await this.observer.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND (query LIKE $1 OR query LIKE '%pg_advisory_lock%')`,
        [`%"${namespace}\\_%`],
      );
      return Number(rows[0]!.n);
    };
    try {
      return await waitFor(async () => ((await waiting()) >= sessions ? sessions : undefined), { timeoutMs, intervalMs: 100, what: `${sessions} instances waiting to migrate` }).catch(waiting);
    } finally {
      await Promise.all(this.holders.map(async (c) => c.query('ROLLBACK').finally(() => c.end())));
      await this.observer.end();
    }
  }
}
