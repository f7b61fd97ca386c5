import type { DataSource, EntityManager } from 'typeorm';
import { AuditActions, RpcError, type DeadLetter, type RpcActor } from '@flotilla/contracts';
import type { AuditLog } from '../audit/audit-log.js';
import { appendHistory, view, type DeadLetterRow } from './dead-letter-row.js';
import { BULK_MAX, describe, whereOf, type LetterFilter } from './filter.js';
import type { DeadLetterQueries } from './queries.js';

/**
 * Discards dead letters: kept in the list, marked `discarded`, never processed (unless
 * the same message dies again, which brings it back `dead`). Only `dead` letters are
 * discarded, each in the transaction that audits it.
 */
export class DeadLetterDiscarder {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queries: DeadLetterQueries,
    private readonly audit: AuditLog,
  ) {}

  async discard(id: string, actor: RpcActor): Promise<DeadLetter> {
    const row = await this.dataSource.transaction(async (m) => {
      const [discarded] = await this.mark(m, `id = $2::uuid`, [actor.userId, id]);
      if (discarded) await this.record(m, discarded, actor);
      return discarded;
    });
    if (!row) {
      const current = await this.queries.find(id);
      throw new RpcError('CONFLICT', `Dead letter ${id} is ${current.status}, not dead: nothing to discard.`);
    }
    return view(row);
  }

  /** Discards every `dead` letter `filter` selects, at most {@link BULK_MAX}; with `dryRun` only counts them. */
  async discardMany(filter: LetterFilter, dryRun: boolean, actor: RpcActor): Promise<{ matched: number; discarded: number; dryRun: boolean }> {
    const where = whereOf({ ...filter, status: 'dead' });
    const [{ n: matched }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dead_letters ${where}`, where.params)) as [{ n: number }];
    if (dryRun) return { matched, discarded: 0, dryRun };
    const discarded = await this.dataSource.transaction(async (m) => {
      const selected = whereOf({ ...filter, status: 'dead' }, [actor.userId]);
      const rows = await this.mark(m, `id IN (SELECT id FROM dead_letters ${selected} ORDER BY failed_at, id LIMIT ${BULK_MAX} FOR UPDATE SKIP LOCKED)`, selected.params);
      for (const row of rows) await this.record(m, row, actor);
      await this.audit.record(m, {
        action: AuditActions.DeadLettersDiscarded,
        outcome: 'success',
        actorId: actor.userId,
        target: 'dead-letters',
        details: { ...describe(filter), matched, discarded: rows.length },
      });
      return rows.length;
    });
    return { matched, discarded, dryRun };
  }

  /** `discarded` by `params[0]`, the `dead` letters `condition` selects. */
  private async mark(m: EntityManager, condition: string, params: unknown[]): Promise<DeadLetterRow[]> {
    const [rows] = (await m.query(
      `UPDATE dead_letters SET status = 'discarded', handled_at = clock_timestamp(), handled_by = $1::uuid,
              history = ${appendHistory(`jsonb_build_object('at', clock_timestamp(), 'event', 'discarded', 'by', $1::uuid)`)}
        WHERE status = 'dead' AND ${condition} RETURNING *`,
      params,
    )) as [DeadLetterRow[], number];
    return rows;
  }

  private record(m: EntityManager, row: DeadLetterRow, actor: RpcActor): Promise<void> {
    return this.audit.record(m, {
      action: AuditActions.DeadLetterDiscarded,
      outcome: 'success',
      actorId: actor.userId,
      target: `dead-letter:${row.id}`,
      details: { kind: row.kind, source: row.source, type: row.type, error: row.error.slice(0, 300) },
    });
  }
}
