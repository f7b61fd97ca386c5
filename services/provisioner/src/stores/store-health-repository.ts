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
    await this.dataSource.query(
      `UPDATE stores SET health_checked_at = clock_timestamp(), health_failures = $2, health_reason = CASE WHEN health = 'down' THEN $3 ELSE health_reason END WHERE id = $1`,
      [storeId, failures, reason ?? null],
    );
  }

  /** A transition to `state`; returns false when the store is gone. */
  async transition(row: StoreRow, state: 'up' | 'down', failures: number, reason: string | undefined): Promise<boolean> {
    const message = state === 'down' ? `health: down — ${reason ?? 'no ready pods'}` : 'health: up — ready pods serve the store again';
    const changed = await this.dataSource.transaction(async (m) => {
      const [[updated]] = (await m.query(
        `UPDATE stores SET health = $2, health_reason = $3, health_since = clock_timestamp(), health_checked_at = clock_timestamp(), health_failures = $4
           WHERE id = $1 RETURNING id`,
        [row.id, state, state === 'down' ? (reason ?? null) : null, failures],
      )) as [Array<{ id: string }>, number];
      if (!updated) return false;
      await m.query(`INSERT INTO store_health (store_id, state, reason) VALUES ($1, $2, $3)`, [row.id, state, state === 'down' ? (reason ?? null) : null]);
      await m.query(`INSERT INTO store_events (store_id, type, message) VALUES ($1, 'health', $2)`, [row.id, message]);
      const data: StoreHealthEventData = {
        storeId: row.id,
        name: row.name,
        teamId: row.team_id,
        status: row.status,
        revision: row.revision,
        message,
        health: state,
        reason: state === 'down' ? (reason ?? null) : null,
      };
      await this.outbox.add(m, StoreEventTypes.Health, data);
      return true;
    });
    if (changed) this.outbox.flush();
    return changed;
  }

  /** What `GET /stores/{id}/health` shows. */
  async view(storeId: string): Promise<StoreHealth> {
    const [row] = (await this.dataSource.query(`SELECT health, health_reason, health_since, health_checked_at FROM stores WHERE id = $1`, [storeId])) as StoreHealthColumns[];
    const timeline = (await this.dataSource.query(
      `SELECT state, reason, at FROM (SELECT * FROM store_health WHERE store_id = $1 ORDER BY id DESC LIMIT $2) h ORDER BY id`,
      [storeId, TIMELINE_LIMIT],
    )) as Array<{ state: 'up' | 'down'; reason: string | null; at: Date }>;
    const state: StoreHealthState = row?.health ?? 'unknown';
    return {
      state,
      reason: row?.health_reason ?? null,
      since: row?.health_since?.toISOString() ?? null,
      checkedAt: row?.health_checked_at?.toISOString() ?? null,
      timeline: timeline.map((t) => ({ state: t.state, reason: t.reason, at: t.at.toISOString() })),
    };
  }
}
