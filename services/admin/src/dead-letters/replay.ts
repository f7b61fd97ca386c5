import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditActions, RpcError, type DeadLetter, type RpcActor } from '@flotilla/contracts';
import type { AuditLog } from '../audit/audit-log.js';
import { appendHistory, view, type DeadLetterRow } from './dead-letter-row.js';
import { BULK_MAX, describe, whereOf, type LetterFilter } from './filter.js';
import type { DeadLetterQueries } from './queries.js';
import type { DeadLetterSender } from './sender.js';

/** Sends of a bulk replay in flight at once. */
const SEND_CONCURRENCY = 16;

/**
 * Replays dead letters. A replay first claims the letter — one conditional UPDATE from
 * `dead` to `replaying` — and only the claim's winner sends, so two clicks, or two
 * admin replicas, send a letter once. Then the letter is `replayed` (its replay count
 * up by one), or, when the send failed, `dead` again with that error. Every replay is
 * audited, failed ones too.
 */
export class DeadLetterReplayer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sender: DeadLetterSender,
    private readonly queries: DeadLetterQueries,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async replay(id: string, actor: RpcActor): Promise<DeadLetter> {
    const claim = randomUUID();
    const [row] = await this.claim(`id = $2::uuid`, [claim, id]);
    if (!row) {
      const current = await this.queries.find(id);
      throw new RpcError('CONFLICT', `Dead letter ${id} is ${current.status}, not dead: nothing to replay.`);
    }
    const { letter, error } = await this.sendClaimed(row, claim, actor);
    if (error) throw new RpcError('UNAVAILABLE', `Dead letter ${id} could not be sent back (${error}); it is dead again.`);
    return letter;
  }

  /** Replays every `dead` letter `filter` selects, at most {@link BULK_MAX}; with `dryRun` only counts them. */
  async replayMany(filter: LetterFilter, dryRun: boolean, actor: RpcActor): Promise<{ matched: number; replayed: number; dryRun: boolean }> {
    const where = whereOf({ ...filter, status: 'dead' });
    const [{ n: matched }] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dead_letters ${where}`, where.params)) as [{ n: number }];
    if (dryRun) return { matched, replayed: 0, dryRun };
    const claim = randomUUID();
    const selected = whereOf({ ...filter, status: 'dead' }, [claim]);
    const rows = await this.claim(`id IN (SELECT id FROM dead_letters ${selected} ORDER BY failed_at, id LIMIT ${BULK_MAX} FOR UPDATE SKIP LOCKED)`, selected.params);
    let replayed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        const row = rows[next++]!;
        if (!(await this.sendClaimed(row, claim, actor)).error) replayed += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, rows.length) }, worker));
    await this.dataSource.transaction((m) =>
      this.audit.record(m, {
        action: AuditActions.DeadLettersReplayed,
        outcome: replayed === rows.length ? 'success' : 'failure',
        actorId: actor.userId,
        target: 'dead-letters',
        details: { ...describe(filter), matched, claimed: rows.length, replayed },
      }),
    );
    return { matched, replayed, dryRun };
  }

  /**
   * Claims the `dead` letters `condition` selects: `replaying` with the claim id `params[0]`.
   * The status is checked again as each row is locked, so of two claims at once one gets it.
   */
  private async claim(condition: string, params: unknown[]): Promise<DeadLetterRow[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE dead_letters SET status = 'replaying', claim_id = $1, claimed_at = clock_timestamp()
        WHERE status = 'dead' AND ${condition} RETURNING *`,
      params,
    )) as [DeadLetterRow[], number];
    return rows;
  }

  /** Sends a letter this replay claimed and records the outcome; never rejects for the send. */
  private async sendClaimed(row: DeadLetterRow, claim: string, actor: RpcActor): Promise<{ letter: DeadLetter; error?: string }> {
    let error: string | undefined;
    try {
      await this.sender.send(row);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      this.logger.warn(`dead letter ${row.id} could not be sent back to ${row.source}: ${error}`);
    }
    const settled = await this.dataSource.transaction(async (m) => {
      // Still ours: replayed (or dead with the send's error). Not ours any more (it died again meanwhile, or
      // was taken back as interrupted): its status stays, but a replay that went out is still counted.
      const [[next]] = (await m.query(
        error === undefined
          ? `UPDATE dead_letters SET replays = replays + 1,
                    history = ${appendHistory(`jsonb_build_object('at', clock_timestamp(), 'event', 'replayed', 'by', $3::uuid)`)},
                    status = CASE WHEN claim_id = $2 THEN 'replayed' ELSE status END,
                    handled_at = CASE WHEN claim_id = $2 THEN clock_timestamp() ELSE handled_at END,
                    handled_by = CASE WHEN claim_id = $2 THEN $3::uuid ELSE handled_by END,
                    claimed_at = CASE WHEN claim_id = $2 THEN NULL ELSE claimed_at END,
                    claim_id = CASE WHEN claim_id = $2 THEN NULL ELSE claim_id END
              WHERE id = $1 RETURNING *`
          : `UPDATE dead_letters SET
                    history = ${appendHistory(`jsonb_build_object('at', clock_timestamp(), 'event', 'replay_failed', 'error', $4::text, 'by', $3::uuid)`)},
                    status = CASE WHEN claim_id = $2 THEN 'dead' ELSE status END,
                    error = CASE WHEN claim_id = $2 THEN $4 ELSE error END,
                    claimed_at = CASE WHEN claim_id = $2 THEN NULL ELSE claimed_at END,
                    claim_id = CASE WHEN claim_id = $2 THEN NULL ELSE claim_id END
              WHERE id = $1 RETURNING *`,
        error === undefined ? [row.id, claim, actor.userId] : [row.id, claim, actor.userId, `replay failed: ${error}`.slice(0, 2000)],
      )) as [DeadLetterRow[], number];
      await this.audit.record(m, {
        action: AuditActions.DeadLetterReplayed,
        outcome: error === undefined ? 'success' : 'failure',
        actorId: actor.userId,
        target: `dead-letter:${row.id}`,
        details: { kind: row.kind, source: row.source, type: row.type, error: (error ?? row.error).slice(0, 300) },
      });
      return next ?? row;
    });
    return { letter: view(settled), ...(error === undefined ? {} : { error }) };
  }
}
