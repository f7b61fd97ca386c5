// The machine's own Postgres and RabbitMQ, observed but never touched, so the chaos run
// can show it left them alone: the postmaster's and the broker's process ids, and one
// connection to each held open through the whole run (a restart closes it, and so does
// RabbitMQ's stop_app, which keeps the process id).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';

const run = promisify(execFile);

async function postmasterPid(client) {
  // The server's own file, read through SQL: works whatever OS user runs the tests.
  const { rows } = await client.query(`SELECT split_part(pg_read_file('postmaster.pid'), E'\\n', 1) AS pid, pg_postmaster_start_time() AS started`);
  return { pid: Number(rows[0].pid), started: rows[0].started.toISOString() };
}

async function brokerPid() {
  try {
    const { stdout } = await run('rabbitmqctl', ['status', '--formatter', 'json'], { timeout: 60_000 });
    return Number(JSON.parse(stdout).pid);
  } catch (error) {
    return `unknown (rabbitmqctl status: ${String(error.message ?? error).split('\n')[0]})`;
  }
}

/**
 * Takes note of the machine's servers at `databaseUrl` and `amqpUrl` and opens the held
 * connections; `check()` later compares, closes them and returns what changed.
 */
export async function observeMachine({ databaseUrl, amqpUrl }) {
  const lost = { postgres: undefined, rabbitmq: undefined };
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  client.on('error', (error) => (lost.postgres ??= error.message));
  client.on('end', () => (lost.postgres ??= 'connection ended'));
  const absent = {};
  await client.connect().catch((error) => (absent.postgres = `not reachable at ${databaseUrl} (${error.message})`));
  const connection = await amqp.connect(amqpUrl, { clientProperties: { connection_name: 'chaos-suite-watch' } }).catch((error) => {
    absent.rabbitmq = `not reachable at ${amqpUrl} (${error.message})`;
    return undefined;
  });
  connection?.on('error', (error) => (lost.rabbitmq ??= error.message));
  connection?.on('close', () => (lost.rabbitmq ??= 'connection closed'));
  // A server that does not run here cannot be disturbed: it is named, not compared.
  const before = {
    postgres: absent.postgres ? { pid: absent.postgres, started: '' } : await postmasterPid(client),
    rabbitmq: absent.rabbitmq ?? (await brokerPid()),
  };

  return {
    before,
    async check() {
      const after = {
        postgres: absent.postgres ? before.postgres : await postmasterPid(client).catch((error) => ({ pid: `unreadable (${error.message})`, started: '' })),
        rabbitmq: absent.rabbitmq ?? (await brokerPid()),
      };
      const problems = [];
      if (after.postgres.pid !== before.postgres.pid || after.postgres.started !== before.postgres.started) {
        problems.push(`the machine's Postgres postmaster changed: pid ${before.postgres.pid} (started ${before.postgres.started}) before, ${after.postgres.pid} (started ${after.postgres.started}) after`);
      }
      if (after.rabbitmq !== before.rabbitmq) problems.push(`the machine's RabbitMQ node changed: pid ${before.rabbitmq} before, ${after.rabbitmq} after`);
      if (lost.postgres && !absent.postgres) problems.push(`the connection held to the machine's Postgres was lost: ${lost.postgres}`);
      if (lost.rabbitmq && !absent.rabbitmq) problems.push(`the connection held to the machine's RabbitMQ was lost: ${lost.rabbitmq}`);
      await client.end().catch(() => undefined);
      await connection?.close().catch(() => undefined);
      return { after, problems };
    },
  };
}
