import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { StreamGroups, Streams } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, TEST_DATABASE_URL } from '@flotilla/testing';

export const COLOURS = ['red', 'green', 'blue', 'yellow'] as const;

export interface SentVote {
  voterId: string;
  pollId: string;
  option: string;
}

/**
 * Votes of `users` users, `perUser` each, interleaved; most replace the voter's earlier
 * vote. Options are drawn with unequal weights from a seeded generator, so the final
 * counts differ from those of any round but the last (a writer that kept the first
 * vote, or double counted, gets other numbers) and a failure can be replayed.
 */
export function voteFlood(pollId: string, options: readonly string[], users: number, perUser: number, seed = 42): SentVote[] {
  let state = seed >>> 0;
  const random = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const weights = options.map((_, i) => options.length - i);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pick = (): string => {
    let r = random() * totalWeight;
    for (let i = 0; i < options.length; i++) {
      r -= weights[i]!;
      if (r < 0) return options[i]!;
    }
    return options.at(-1)!;
  };
  const voters = Array.from({ length: users }, () => randomUUID());
  const votes: SentVote[] = [];
  for (let round = 0; round < perUser; round++) {
    for (const voterId of voters) votes.push({ voterId, pollId, option: pick() });
  }
  return votes;
}

/** XADDs `votes` as the gateway does, in pipelines; resolves with the stream ids in order. */
export async function addVotes(redis: Redis, stream: string, votes: readonly SentVote[], chunk = 500): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < votes.length; i += chunk) {
    const pipeline = redis.pipeline();
    for (const v of votes.slice(i, i + chunk)) {
      pipeline.xadd(
        stream, '*',
        'voteId', randomUUID(), 'pollId', v.pollId, 'option', v.option, 'voterId', v.voterId,
        'ip', '192.0.2.10', 'userAgent', 'vote-flood/1.0', 'requestId', randomUUID(), 'at', new Date().toISOString(),
      );
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error, id] of results) {
      if (error) throw error;
      ids.push(id as string);
    }
  }
  return ids;
}

/** The count per option of each voter's last vote, in `options` order: what the tallies must say. */
export function recount(votes: readonly SentVote[], pollId: string, options: readonly string[]): Record<string, number> {
  const last = new Map<string, string>();
  for (const v of votes) if (v.pollId === pollId) last.set(v.voterId, v.option);
  return Object.fromEntries(options.map((o) => [o, [...last.values()].filter((x) => x === o).length]));
}

/** Reads the service's schema directly, as an operator would check it. */
export class VotesDb {
  private constructor(private readonly client: pg.Client) {}

  static async open(namespace: string): Promise<VotesDb> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${new Naming(namespace).schema('votes')}` });
    await client.connect();
    return new VotesDb(client);
  }

  async tallies(pollId: string): Promise<Record<string, number>> {
    const { rows } = await this.client.query<{ option: string; count: string }>(
      `SELECT option, count FROM tallies t JOIN poll_options o USING (poll_id, option) WHERE poll_id = $1 ORDER BY o.position`,
      [pollId],
    );
    return Object.fromEntries(rows.map((r) => [r.option, Number(r.count)]));
  }

  /** Current ballots per option (options without any ballot are 0). */
  async ballots(pollId: string, options: readonly string[]): Promise<Record<string, number>> {
    const { rows } = await this.client.query<{ option: string; n: string }>(
      `SELECT option, count(*) AS n FROM ballots WHERE poll_id = $1 GROUP BY option`,
      [pollId],
    );
    return Object.fromEntries(options.map((o) => [o, Number(rows.find((r) => r.option === o)?.n ?? 0)]));
  }

  async rows<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  async scalar(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Delivered-but-unacknowledged entries of the votes group, over all its consumers. */
export async function pendingVotes(redis: Redis, stream: string): Promise<number> {
  try {
    return Number(((await redis.xpending(stream, StreamGroups.VoteProcessors)) as [number])[0]);
  } catch {
    return 0;
  }
}

/** The votes stream key of a namespace. */
export const votesStream = (namespace: string): string => new Naming(namespace).key(Streams.Votes);

/** Removes everything a test namespace created: schemas, Redis keys, RabbitMQ queues and exchanges. */
export async function cleanUp(namespace: string, amqpServices: [string, ('votes' | undefined)?][]): Promise<void> {
  const naming = new Naming(namespace);
  const queues = new Set<string>();
  const exchanges = new Set<string>();
  for (const [service, serve] of amqpServices) {
    const resources = topologyResources(naming, service, serve);
    resources.queues.forEach((q) => queues.add(q));
    resources.exchanges.forEach((e) => exchanges.add(e));
  }
  await Promise.allSettled([dropSchemas(namespace), deleteKeys(namespace), deleteAmqp([...queues], [...exchanges])]);
}
