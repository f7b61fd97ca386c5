/**
 * What the fault tests share: the figures each prints, reading a service's schema, and
 * stopping and starting the machine's RabbitMQ and Postgres — always given back, healthy,
 * in a `finally`, because other test runs on this machine use them too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { TEST_AMQP_URL, TEST_DATABASE_URL, waitFor } from '@flotilla/testing';

const run = promisify(execFile);

/** The figures every fault test prints: work sent, work found, duplicates, errors seen. */
export interface Figures {
  sent: number;
  found: number;
  duplicated: number;
  errors: number;
  [more: string]: number | string;
}

export function report(fault: string, figures: Figures, notes: string[] = []): void {
  const { sent, found, duplicated, errors, ...more } = figures;
  const extra = Object.entries(more).map(([k, v]) => `${k} ${v}`);
  console.log([`${fault}: sent ${sent}, found ${found}, duplicated ${duplicated}, errors seen ${errors}${extra.length ? `; ${extra.join(', ')}` : ''}`, ...notes.map((n) => `  ${n}`)].join('\n'));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A client on one service's schema. */
export class ServiceDb {
  private constructor(private readonly client: pg.Client) {}

  static async open(namespace: string, owner: string): Promise<ServiceDb> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${new Naming(namespace).schema(owner)}` });
    client.on('error', () => undefined); // a Postgres stopped by a test ends the connection
    await client.connect();
    return new ServiceDb(client);
  }

  async rows<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  async scalar(sql: string, params: unknown[] = []): Promise<number> {
    const rows = await this.rows<{ n: string }>(sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/** The machine's RabbitMQ, stopped and started with rabbitmqctl (the Erlang node stays up). */
export const rabbitmq = {
  async stop(): Promise<void> {
    await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 });
  },
  async start(): Promise<void> {
    await run('rabbitmqctl', ['start_app'], { timeout: 120_000 });
    await run('rabbitmqctl', ['await_startup'], { timeout: 120_000 }).catch(() => undefined);
    await waitFor(
      async () => {
        const connection = await amqp.connect(TEST_AMQP_URL);
        await connection.close();
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'RabbitMQ to take connections again' },
    );
  },
};

/** The machine's Postgres cluster (the one at DATABASE_URL), stopped and started with pg_ctlcluster. */
export const postgres = {
  async cluster(): Promise<{ version: string; name: string }> {
    const port = new URL(TEST_DATABASE_URL).port || '5432';
    const { stdout } = await run('pg_lsclusters', ['--no-header']);
    const line = stdout.split('\n').find((l) => l.split(/\s+/)[2] === port);
    if (!line) throw new Error(`no Postgres cluster on port ${port} in pg_lsclusters:\n${stdout}`);
    const [version, name] = line.trim().split(/\s+/);
    return { version: version!, name: name! };
  },
  async stop(): Promise<void> {
    const { version, name } = await this.cluster();
    await run('pg_ctlcluster', [version, name, 'stop', '--', '-m', 'fast'], { timeout: 60_000 });
  },
  async start(): Promise<void> {
    const { version, name } = await this.cluster();
    await run('pg_ctlcluster', [version, name, 'start'], { timeout: 60_000 }).catch((error: { stderr?: string }) => {
      if (!/already running/.test(error.stderr ?? '')) throw error;
    });
    await waitFor(
      async () => {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        client.on('error', () => undefined);
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'Postgres to take connections again' },
    );
  },
};

/** GET /health/ready of a service: its status and the dependencies it names as down. */
export async function readiness(url: string): Promise<{ status: number; down: string[] }> {
  try {
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json().catch(() => ({}))) as { error?: Record<string, unknown> };
    return { status: res.status, down: Object.keys(body.error ?? {}) };
  } catch {
    return { status: 0, down: ['(no answer)'] };
  }
}

/** Runs `worker` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: T[], concurrency: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await worker(items[i]!, i);
      }
    }),
  );
}
