import type { DeadLetterStatus } from '@flotilla/contracts';

/** What selects dead letters, in the list and in bulk actions. */
export interface LetterFilter {
  status?: DeadLetterStatus;
  /** The queue or stream it failed in, exactly. */
  source?: string;
  /** Searched in the letter's id, its message's id, its type and its error text. */
  q?: string;
  ids?: string[];
}

/** Letters one bulk action takes on; its `matched` tells the caller whether to call again. */
export const BULK_MAX = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Collects conditions with numbered parameters, `?` standing for each value. */
export class Where {
  private readonly conditions: string[] = [];

  /** `params`: values the statement numbers before these conditions' own. */
  constructor(readonly params: unknown[] = []) {}

  add(sql: string, ...values: unknown[]): this {
    let text = sql;
    for (const value of values) {
      this.params.push(value);
      text = text.replace('?', `$${this.params.length}`);
    }
    this.conditions.push(text);
    return this;
  }

  /** `WHERE …`, or nothing when there is no condition. */
  toString(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}

/** The conditions of `filter` on `dead_letters`, numbered after `leading` parameters. */
export function whereOf(filter: LetterFilter, leading: unknown[] = []): Where {
  const where = new Where([...leading]);
  if (filter.status) where.add('status = ?', filter.status);
  if (filter.source) where.add('source = ?', filter.source);
  if (filter.ids) where.add('id = ANY(?::uuid[])', filter.ids);
  const q = filter.q?.trim();
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    if (UUID.test(q)) where.add('(id = ?::uuid OR origin_id ILIKE ? OR error ILIKE ?)', q, like, like);
    else where.add('(origin_id ILIKE ? OR type ILIKE ? OR error ILIKE ?)', like, like, like);
  }
  return where;
}

/** A bulk action's selection, for the audit log. */
export function describe(filter: LetterFilter): Record<string, unknown> {
  return filter.ids ? { ids: filter.ids.length } : { filter: { source: filter.source ?? null, q: filter.q ?? null } };
}
