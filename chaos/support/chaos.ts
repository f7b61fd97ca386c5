/**
 * What the fault tests share: the figures each prints, reading a service's schema, and
 * the suite's own Postgres, RabbitMQ and Redis (global-setup.mjs), which the faults stop,
 * start and freeze — never the machine's servers.
 */
import amqp from 'amqplib';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { topologyNames } from '@flotilla/messaging';
import { PrivatePostgres, PrivateRabbitMQ, TEST_AMQP_URL, TEST_DATABASE_URL, waitFor, type RabbitMQLocation } from '@flotilla/testing';

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

interface ChaosServers {
  postgres: { dir: string; port: number };
  rabbitmq: RabbitMQLocation;
  redis: { port: number; pid: number };
}

/** The suite's private servers, started by global-setup.mjs before any test module loads. */
function servers(): ChaosServers {
  const json = process.env.FLOTILLA_CHAOS_SERVERS;
  if (!json) throw new Error('the chaos suite runs on servers of its own: run it as `npm run test:chaos` (the chaos project\'s globalSetup starts them)');
  return JSON.parse(json) as ChaosServers;
}

/** Waits until the suite's Postgres answers a query. */
async function postgresAnswers(): Promise<void> {
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
}

/** The suite's own RabbitMQ node: the whole node stopped and started, killed, or frozen. */
export const rabbitmq = {
  node: (): PrivateRabbitMQ => new PrivateRabbitMQ(servers().rabbitmq),
  async stop(): Promise<void> {
    await this.node().stop();
  },
  async start(): Promise<void> {
    await this.node().start();
  },
  pause(): void {
    this.node().pause();
  },
  resume(): void {
    this.node().resume();
  },
};

/** The suite's own Postgres cluster: stopped (`pg_ctl stop -m fast`) and started, or frozen. */
export const postgres = {
  cluster: (): PrivatePostgres => new PrivatePostgres(servers().postgres),
  async stop(): Promise<void> {
    await this.cluster().stop();
  },
  async start(): Promise<void> {
    await this.cluster().start();
    await postgresAnswers();
  },
  pause(): void {
    this.cluster().pause();
  },
  resume(): void {
    this.cluster().resume();
  },
};

/** The suite's own Redis: frozen and let go (its restart is redis-restart's own server). */
export const redis = {
  pause(): void {
    process.kill(servers().redis.pid, 'SIGSTOP');
  },
  resume(): void {
    process.kill(servers().redis.pid, 'SIGCONT');
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

/** One event as it crossed the broker. */
export interface Tapped {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/**
 * A durable queue of the test's own bound to every event of a namespace: it keeps a copy
 * of each publication, across broker restarts, so the test can count what was published
 * (and how often) rather than what a table with a unique key could hold.
 */
export class Wiretap {
  private constructor(private readonly queue: string) {}

  static async open(namespace: string): Promise<Wiretap> {
    const naming = new Naming(namespace);
    const queue = naming.amqp('chaos.wiretap');
    const connection = await amqp.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const exchange = topologyNames(naming, 'wiretap').eventsExchange;
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, exchange, '#');
    } finally {
      await connection.close();
    }
    return new Wiretap(queue);
  }

  /** Takes every copy kept so far (and deletes the queue when `last`). */
  async drain(last = true): Promise<Tapped[]> {
    const connection = await amqp.connect(TEST_AMQP_URL);
    const seen: Tapped[] = [];
    try {
      const channel = await connection.createChannel();
      for (let message = await channel.get(this.queue, { noAck: true }); message; message = await channel.get(this.queue, { noAck: true })) {
        seen.push(JSON.parse(message.content.toString()) as Tapped);
      }
      if (last) await channel.deleteQueue(this.queue);
    } finally {
      await connection.close();
    }
    return seen;
  }
}

/**
 * Of the tapped events of `type`, keyed by `key(data)`: how many keys, how many were
 * published as more than one event (a duplicate), and how many copies of one event
 * crossed the broker more than once (redelivery, which consumers must absorb).
 */
export function tally(tapped: Tapped[], type: string, key: (data: Record<string, unknown>) => string): { keys: number; events: number; duplicated: number; copies: number } {
  const ids = new Map<string, Set<string>>();
  let copies = 0;
  for (const e of tapped.filter((t) => t.type === type)) {
    const k = key(e.data);
    const set = ids.get(k) ?? new Set<string>();
    if (set.has(e.id)) copies++;
    set.add(e.id);
    ids.set(k, set);
  }
  const events = [...ids.values()].reduce((n, s) => n + s.size, 0);
  return { keys: ids.size, events, duplicated: events - ids.size, copies };
}
