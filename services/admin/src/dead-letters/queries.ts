import type { DataSource } from 'typeorm';
import { RpcError, type DeadLetter, type DeadLetterPage } from '@flotilla/contracts';
import { view, type DeadLetterRow } from './dead-letter-row.js';
import { whereOf, type LetterFilter } from './filter.js';

export interface LetterQuery extends Omit<LetterFilter, 'ids'> {
  cursor?: string;
  limit?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads `dead_letters`: latest failure first, keyset paging on (failed_at, id) with the
 * cursor holding the time to the microsecond (as Postgres keeps it, so no row is
 * skipped or repeated between pages), and the total the filter matches.
 */
export class DeadLetterQueries {
  constructor(private readonly dataSource: DataSource) {}

  async page(query: LetterQuery, sources: string[]): Promise<DeadLetterPage> {
    const limit = query.limit ?? 50;
    const where = whereOf(query);
    const [{ n: total }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dead_letters ${where}`, where.params)) as [{ n: number }];
    if (query.cursor) {
      const { micros, id } = decodeCursor(query.cursor);
      where.add(`(failed_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`, micros, id);
    }
    const rows = (await this.dataSource.query(
      `SELECT *, (extract(epoch FROM failed_at) * 1000000)::bigint::text AS failed_micros
         FROM dead_letters ${where} ORDER BY failed_at DESC, id DESC LIMIT ${limit + 1}`,
      where.params,
    )) as (DeadLetterRow & { failed_micros: string })[];
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(view),
      nextCursor: rows.length > limit && last ? Buffer.from(`${last.failed_micros}|${last.id}`).toString('base64url') : null,
      total,
      sources,
    };
  }

  async get(id: string): Promise<DeadLetter> {
    return view(await this.find(id));
  }

  /** The row, or `NOT_FOUND`. */
  async find(id: string): Promise<DeadLetterRow> {
    const [row] = (await this.dataSource.query(`SELECT * FROM dead_letters WHERE id = $1`, [id])) as DeadLetterRow[];
    if (!row) throw new RpcError('NOT_FOUND', `Dead letter ${id} does not exist.`);
    return row;
  }

  /** Letters waiting for an operator. */
  async countDead(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dead_letters WHERE status = 'dead'`)) as { n: number }[];
    return row?.n ?? 0;
  }
}

function decodeCursor(cursor: string): { micros: string; id: string } {
  const [micros, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !micros || !/^-?\d{1,19}$/.test(micros) || !id || !UUID.test(id)) {
    throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'cursor', message: 'cursor is not valid' }]);
  }
  return { micros, id };
}
