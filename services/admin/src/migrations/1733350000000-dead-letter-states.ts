import type { MigrationInterface, QueryRunner } from 'typeorm';
import { parseDeadLetter } from '@flotilla/messaging';
import { streamOriginId } from '../dead-letters/collector.js';

/**
 * Dead letters as a state machine: the `replaying` state with its claim (id and time),
 * the replay count and history, and the key of the death a row holds. Existing rows get
 * a history from what they say; a stream letter's identity becomes its entry's fields
 * (a replay re-adds them unchanged, so a letter that dies again is found again) — only
 * the newest of letters with the same fields takes the new key, the others keep theirs.
 */
export class DeadLetterStates1733350000000 implements MigrationInterface {
  name = 'DeadLetterStates1733350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dead_letters DROP CONSTRAINT IF EXISTS dead_letters_status_check`);
    await q.query(`ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check CHECK (status IN ('dead', 'replaying', 'replayed', 'discarded'))`);
    await q.query(`
      ALTER TABLE dead_letters
        ADD COLUMN replays integer NOT NULL DEFAULT 0,
        ADD COLUMN history jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN death_key text,
        ADD COLUMN claim_id uuid,
        ADD COLUMN claimed_at timestamptz,
        ADD CONSTRAINT dead_letters_claim_check CHECK ((status = 'replaying') = (claim_id IS NOT NULL AND claimed_at IS NOT NULL))`);
    await q.query(`
      UPDATE dead_letters SET
        replays = CASE WHEN status = 'replayed' THEN 1 ELSE 0 END,
        history = jsonb_build_array(jsonb_build_object('at', failed_at, 'event', 'dead', 'error', error, 'attempts', attempts))
          || CASE WHEN status = 'dead' THEN '[]'::jsonb
                  ELSE jsonb_build_array(jsonb_build_object('at', COALESCE(handled_at, failed_at), 'event', status, 'by', handled_by)) END`);
    const rows = (await q.query(`SELECT id, source, raw FROM dead_letters WHERE kind = 'stream' ORDER BY failed_at DESC, id DESC`)) as { id: string; source: string; raw: string }[];
    const taken = new Set<string>();
    for (const row of rows) {
      let fields: Record<string, string> = {};
      try {
        fields = parseDeadLetter(JSON.parse(row.raw) as Record<string, string>).fields;
      } catch {
        continue; // not readable: keeps its key
      }
      const key = streamOriginId(fields);
      if (Object.keys(fields).length === 0 || taken.has(`${row.source}\n${key}`)) continue;
      taken.add(`${row.source}\n${key}`);
      await q.query(`UPDATE dead_letters SET origin_id = $2 WHERE id = $1`, [row.id, key]);
    }
    // The list: latest failure first, with or without a status.
    await q.query(`DROP INDEX IF EXISTS dead_letters_failed_idx`);
    await q.query(`CREATE INDEX dead_letters_failed_idx ON dead_letters (failed_at DESC, id DESC)`);
    await q.query(`CREATE INDEX dead_letters_status_failed_idx ON dead_letters (status, failed_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX dead_letters_status_failed_idx`);
    await q.query(`DROP INDEX dead_letters_failed_idx`);
    await q.query(`CREATE INDEX dead_letters_failed_idx ON dead_letters (failed_at DESC)`);
    await q.query(`ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_claim_check`);
    await q.query(`UPDATE dead_letters SET status = 'dead' WHERE status = 'replaying'`);
    await q.query(`ALTER TABLE dead_letters DROP COLUMN replays, DROP COLUMN history, DROP COLUMN death_key, DROP COLUMN claim_id, DROP COLUMN claimed_at`);
    await q.query(`ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_status_check`);
    await q.query(`ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check CHECK (status IN ('dead', 'replayed', 'discarded'))`);
  }
}
