import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { hasDefaultBrokerCredentials, hasDefaultDatabaseCredentials } from '@flotilla/config';
import { TEST_AMQP_URL, TEST_DATABASE_URL } from '@flotilla/testing';

const run = promisify(execFile);

function withUserinfo(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}

/**
 * `DATABASE_URL` and `AMQP_URL` that production mode accepts, on the shared test servers:
 * where the test servers are reached with the default credentials (postgres without a
 * password, RabbitMQ's guest), a Postgres role and a RabbitMQ user of their own, made
 * for the run (rabbitmqctl) and removed by {@link drop}.
 */
export class ProductionCredentials {
  private constructor(
    readonly DATABASE_URL: string,
    readonly AMQP_URL: string,
    private readonly role?: string,
    private readonly brokerUser?: string,
  ) {}

  static async create(): Promise<ProductionCredentials> {
    const suffix = randomBytes(4).toString('hex');
    let databaseUrl = TEST_DATABASE_URL;
    let amqpUrl = TEST_AMQP_URL;
    let role: string | undefined;
    let brokerUser: string | undefined;
    if (hasDefaultDatabaseCredentials(TEST_DATABASE_URL)) {
      role = `e2e_production_${suffix}`;
      const password = randomBytes(16).toString('hex');
      await withAdmin((db) => db.query(`CREATE ROLE "${role}" LOGIN SUPERUSER PASSWORD '${password}'`));
      databaseUrl = withUserinfo(TEST_DATABASE_URL, role, password);
    }
    if (hasDefaultBrokerCredentials(TEST_AMQP_URL)) {
      brokerUser = `e2e-production-${suffix}`;
      const password = randomBytes(16).toString('hex');
      const vhost = decodeURIComponent(new URL(TEST_AMQP_URL).pathname.slice(1)) || '/';
      await run('rabbitmqctl', ['add_user', brokerUser, password]);
      await run('rabbitmqctl', ['set_permissions', '-p', vhost, brokerUser, '.*', '.*', '.*']);
      amqpUrl = withUserinfo(TEST_AMQP_URL, brokerUser, password);
    }
    return new ProductionCredentials(databaseUrl, amqpUrl, role, brokerUser);
  }

  /** Removes the role and the broker user (call after the namespace's schemas are dropped). */
  async drop(): Promise<void> {
    if (this.role) {
      await withAdmin(async (db) => {
        await db.query(`REASSIGN OWNED BY "${this.role}" TO CURRENT_USER`);
        await db.query(`DROP OWNED BY "${this.role}"`);
        await db.query(`DROP ROLE "${this.role}"`);
      });
    }
    if (this.brokerUser) await run('rabbitmqctl', ['delete_user', this.brokerUser]);
  }
}

async function withAdmin<T>(work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}
