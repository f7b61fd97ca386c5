import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StoreEventTypes, type StoreHealth, type StoreHealthEventData, type StoreHealthState } from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import type { StoreRow } from './store-repository.js';

/** The health columns of a store row (added by the StoreHealth migration). */
export interface StoreHealthColumns {
  health: 'up' | 'down' | null;
  health_reason: string | null;
  health_since: Date | null;
  health_checked_at: Date | null;
  health_failures: number;
}

const TIMELINE_LIMIT = 100;

/**
 * The start of a store's `error` while health keeps it `degraded`: how an `up` tells its
 * own degradation from one with another cause (an aborted or rolled-back update), which
 * it leaves alone.
 */
export const HEALTH_ERROR_PREFIX = 'health: down — ';

/**
 * A `ready` store that is down becomes `degraded`, with what blocks as its error; the error
 * follows the reason while it stays down. Any other status (another degradation included) is kept.
 */
const DEGRADE_WHEN_DOWN = `status = CASE WHEN health = 'down' AND status = 'ready' THEN 'degraded' ELSE status END,
  error = CASE WHEN health = 'down' AND (status = 'ready' OR (status = 'degraded' AND error LIKE '${HEALTH_ERROR_PREFIX}%')) THEN '${HEALTH_ERROR_PREFIX}' || COALESCE(health_reason, 'no ready pods') ELSE error END`;

/** A store `degraded` by health only is `ready` again when it is up. */
const RECOVER_WHEN_UP = `status = CASE WHEN health = 'up' AND status = 'degraded' AND error LIKE '${HEALTH_ERROR_PREFIX}%' THEN 'ready' ELSE status END,
  error = CASE WHEN health = 'up' AND status = 'degraded' AND error LIKE '${HEALTH_ERROR_PREFIX}%' THEN NULL ELSE error END`;

/**
 * Store health: each check updates the row; a transition also appends to the timeline,
 * logs a store event and publishes `store.health` through the outbox — all in one transaction.
 */
@Injectable()
export class StoreHealthRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /** A check that changed nothing but the count of failing checks in a row. */
  async checked(storeId: string, failures: number, reason: string | undefined): Promise<void> {
    // A store that stays down after an update made it `ready` again is degraded again.
    await this.dataSource.query(
      `UPDATE stores SET health_checked_at = clock_timestamp(), health_failures = $2, health_reason = CASE WHEN health = 'down' THEN $3 ELSE health_reason END WHERE id = $1`,
      [storeId, failures, reason ?? null],
    );
    await this.dataSource.query(`UPDATE stores SET ${DEGRADE_WHEN_DOWN}, updated_at = now() WHERE id = $1 AND health = 'down' AND status IN ('ready', 'degraded')`, [storeId]);
  }

  /** A transition to `state`; returns false when the store is gone. */
  async transition(row: StoreRow, state: 'up' | 'down', failures: number, reason: string | undefined): Promise<boolean> {
    const message = state === 'down' ? `health: down — ${reason ?? 'no ready pods'}` : 'health: up — ready pods serve the store again';
    const changed = await this.dataSource.transaction(async (m) => {
      const [[updated]] = (await m.query(
        `UPDATE stores s SET health = $2, health_reason = $3, health_since = clock_timestamp(), health_checked_at = clock_timestamp(), health_failures = $4
           FROM (SELECT health FROM stores WHERE id = $1 FOR UPDATE) before
           WHERE s.id = $1 RETURNING s.id, s.health_since, coalesce(before.health, 'unknown') AS previous`,
        [row.id, state, state === 'down' ? (reason ?? null) : null, failures],
      )) as [Array<{ id: string; health_since: Date; previous: StoreHealthState }>, number];
      if (!updated) return false;
      // The status follows (API.md "Health"): down → `degraded` with the reason; up → `ready` when health degraded it.
      const [[after]] = (await m.query(`UPDATE stores SET ${state === 'down' ? DEGRADE_WHEN_DOWN : RECOVER_WHEN_UP}, updated_at = now() WHERE id = $1 RETURNING status`, [row.id])) as [
        Array<{ status: StoreRow['status'] }>,
        number,
      ];
      // The transition's time is the store's `since`.
      await m.query(`INSERT INTO store_health (store_id, state, reason, at) VALUES ($1, $2, $3, $4)`, [row.id, state, state === 'down' ? (reason ?? null) : null, updated.health_since]);
      await m.query(`INSERT INTO store_events (store_id, type, message) VALUES ($1, 'health', $2)`, [row.id, message]);
      const data: StoreHealthEventData = {
        storeId: row.id,
        name: row.name,
        teamId: row.team_id,
        status: after?.status ?? row.status,
        revision: row.revision,
        message,
        health: state,
        previous: updated.previous,
        reason: state === 'down' ? (reason ?? null) : null,
      };
      await this.outbox.add(m, StoreEventTypes.Health, data);
      return true;
    });
    if (changed) this.outbox.flush();
    return changed;
  }

  /** What `GET /stores/{id}/health` shows: the API.md shape, plus `reason` and `checkedAt`. */
  async view(storeId: string): Promise<StoreHealth> {
    const [row] = (await this.dataSource.query(`SELECT health, health_reason, health_since, health_checked_at FROM stores WHERE id = $1`, [storeId])) as StoreHealthColumns[];
    // `from` over the whole history, so the oldest shown transition still names its predecessor.
    const transitions = (await this.dataSource.query(
      `SELECT state, prev, reason, at FROM (
         SELECT id, state, reason, at, LAG(state) OVER (ORDER BY id) AS prev FROM store_health WHERE store_id = $1
       ) h ORDER BY id DESC LIMIT $2`,
      [storeId, TIMELINE_LIMIT],
    )) as Array<{ state: 'up' | 'down'; prev: 'up' | 'down' | null; reason: string | null; at: Date }>;
    const status: StoreHealthState = row?.health ?? 'unknown';
    return {
      status,
      since: row?.health_since?.toISOString() ?? null,
      transitions: transitions.reverse().map((t) => ({ at: t.at.toISOString(), from: t.prev ?? 'unknown', to: t.state, reason: t.reason })),
      reason: row?.health_reason ?? null,
      checkedAt: row?.health_checked_at?.toISOString() ?? null,
    };
  }
}
