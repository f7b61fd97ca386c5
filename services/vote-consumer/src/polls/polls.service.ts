import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource, type QueryRunner } from 'typeorm';
import { DEFAULT_POLL, type CreatePollRequest, type OptionResult, type Poll, type PollResults } from '@flotilla/contracts';

/** A poll with this id exists already. */
export class PollExistsError extends Error {
  override readonly name = 'PollExistsError';
  constructor(readonly pollId: string) {
    super(`Poll ${pollId} already exists.`);
  }
}

interface PollRow {
  id: string;
  question: string;
  created_at: Date;
  options: string[];
}

const SELECT_POLLS = `
  SELECT p.id, p.question, p.created_at, array_agg(o.option ORDER BY o.position) AS options
  FROM polls p JOIN poll_options o ON o.poll_id = p.id`;

/** Polls kept in memory; the least recently used beyond this is read again from Postgres when needed. */
export const KNOWN_POLLS_MAX = 10_000;
/** A poll unused this long leaves memory (polls never change, so this only returns memory). */
const KNOWN_POLL_UNUSED_MS = 60 * 60_000;

const toPoll = (row: PollRow): Poll => ({ id: row.id, question: row.question, options: row.options, createdAt: row.created_at.toISOString() });

/** Share of `total` in percent, to one decimal. */
export function percentage(count: number, total: number): number {
  return total === 0 ? 0 : Math.round((count * 1000) / total) / 10;
}

/**
 * Polls and their results. A poll never changes once created (no edits, options fixed),
 * so polls are cached in memory (a bounded LRU) for the vote writer, which checks every vote against them.
 */
@Injectable()
export class PollsService implements OnModuleInit {
  private readonly logger = new Logger(PollsService.name);
  private readonly known = new LRUCache<string, Poll>({ max: KNOWN_POLLS_MAX, ttl: KNOWN_POLL_UNUSED_MS, updateAgeOnGet: true });

  constructor(private readonly dataSource: DataSource) {}

  /** Polls held in memory, for tests and metrics. */
  get cachedPolls(): number {
    return this.known.size;
  }

  /** The default poll exists from the first start; several instances may race, one wins. */
  async onModuleInit(): Promise<void> {
    const created = await this.insert({ ...DEFAULT_POLL, options: [...DEFAULT_POLL.options] });
    if (created) this.logger.log(`created the default poll ${DEFAULT_POLL.id}`);
  }

  async list(): Promise<Poll[]> {
    const rows = (await this.dataSource.query(`${SELECT_POLLS} GROUP BY p.id ORDER BY p.created_at, p.id`)) as PollRow[];
    return rows.map((row) => this.remember(toPoll(row)));
  }

  async get(pollId: string): Promise<Poll | null> {
    const cached = this.known.get(pollId);
    if (cached) return cached;
    const [row] = (await this.dataSource.query(`${SELECT_POLLS} WHERE p.id = $1 GROUP BY p.id`, [pollId])) as PollRow[];
    return row ? this.remember(toPoll(row)) : null;
  }

  /** Creates a poll with a zero tally per option. Throws {@link PollExistsError} for a taken id. */
  async create(input: CreatePollRequest): Promise<Poll> {
    const poll = await this.insert(input);
    if (!poll) throw new PollExistsError(input.id);
    return poll;
  }

  /** Every option in poll order, 0 when it has no votes; `null` when the poll does not exist. */
  async results(pollId: string): Promise<PollResults | null> {
    const rows = (await this.dataSource.query(
      `SELECT o.option, t.count, t.updated_at
       FROM poll_options o JOIN tallies t USING (poll_id, option)
       WHERE o.poll_id = $1 ORDER BY o.position`,
      [pollId],
    )) as { option: string; count: string; updated_at: Date }[];
    if (rows.length === 0) return null;
    const total = rows.reduce((sum, row) => sum + Number(row.count), 0);
    const options: OptionResult[] = rows.map((row) => ({ option: row.option, count: Number(row.count), percentage: percentage(Number(row.count), total) }));
    const updatedAt = new Date(Math.max(...rows.map((row) => row.updated_at.getTime())));
    return { pollId, total, options, updatedAt: updatedAt.toISOString() };
  }

  /**
   * Accepted votes (every vote event counted, a replaced vote included; entries recorded
   * but refused — unknown poll or option, malformed — left out) and polls.
   */
  async counts(): Promise<{ total: number; polls: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT count(*) FROM vote_events WHERE rejected_reason IS NULL)::bigint::text AS total,
              (SELECT count(*) FROM polls)::int AS polls`,
    )) as { total: string; polls: number }[];
    return { total: Number(row!.total), polls: row!.polls };
  }

  /**
   * The options of each poll in `pollIds` that exists, read through `runner` (the
   * caller's transaction) for polls not cached yet. Polls absent here do not exist.
   */
  async optionsOf(pollIds: Iterable<string>, runner: QueryRunner): Promise<Map<string, ReadonlySet<string>>> {
    const result = new Map<string, ReadonlySet<string>>();
    const missing: string[] = [];
    for (const id of new Set(pollIds)) {
      const poll = this.known.get(id);
      if (poll) result.set(id, new Set(poll.options));
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = (await runner.query(`${SELECT_POLLS} WHERE p.id = ANY($1::text[]) GROUP BY p.id`, [missing])) as PollRow[];
      for (const row of rows) result.set(row.id, new Set(this.remember(toPoll(row)).options));
    }
    return result;
  }

  /** Inserts poll, options and zero tallies in one transaction; `null` when the id is taken. */
  private async insert(input: CreatePollRequest): Promise<Poll | null> {
    const poll = await this.dataSource.transaction(async (manager) => {
      const [row] = (await manager.query(
        `INSERT INTO polls (id, question) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING created_at`,
        [input.id, input.question],
      )) as { created_at: Date }[];
      if (!row) return null;
      await manager.query(
        `INSERT INTO poll_options (poll_id, option, position)
         SELECT $1, o.option, o.n - 1 FROM unnest($2::text[]) WITH ORDINALITY AS o(option, n)`,
        [input.id, input.options],
      );
      await manager.query(`INSERT INTO tallies (poll_id, option) SELECT $1, o FROM unnest($2::text[]) AS o`, [input.id, input.options]);
      return { id: input.id, question: input.question, options: [...input.options], createdAt: row.created_at.toISOString() };
    });
    return poll ? this.remember(poll) : null;
  }

  private remember(poll: Poll): Poll {
    this.known.set(poll.id, poll);
    return poll;
  }
}
