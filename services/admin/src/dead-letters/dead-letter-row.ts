import type { DeadLetter, DeadLetterHistoryEntry, DeadLetterStatus } from '@flotilla/contracts';

/** A row of `dead_letters`. */
export interface DeadLetterRow {
  id: string;
  kind: 'queue' | 'stream';
  source: string;
  /** The letter's identity across deaths and replays: message id + content hash, or a stream entry's content hash. */
  origin_id: string;
  type: string | null;
  error: string;
  failed_at: Date;
  attempts: number;
  payload: unknown;
  raw: string;
  headers: Record<string, unknown>;
  status: DeadLetterStatus;
  handled_at: Date | null;
  handled_by: string | null;
  replays: number;
  history: DeadLetterHistoryEntry[];
  /** Which death the row holds (a DLQ message's headers hash, a dead stream entry's id): collecting it again changes nothing. */
  death_key: string | null;
  /** The replay that claimed it while `replaying`. */
  claim_id: string | null;
  claimed_at: Date | null;
}

/** Steps of a letter's history kept (the oldest are dropped beyond this). */
export const HISTORY_KEPT = 50;

/**
 * SQL for `history` with `entry` (a SQL jsonb expression) appended, the newest
 * {@link HISTORY_KEPT} kept.
 */
export function appendHistory(entry: string, column = 'history'): string {
  return `jsonb_path_query_array(${column} || jsonb_build_array(${entry}), '$[last-${HISTORY_KEPT - 1} to last]')`;
}

export function view(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    kind: row.kind,
    source: row.source,
    type: row.type,
    error: row.error,
    failedAt: row.failed_at.toISOString(),
    attempts: row.attempts,
    payload: row.payload,
    status: row.status,
    handledAt: row.handled_at?.toISOString() ?? null,
    replays: row.replays,
    history: row.history,
  };
}
