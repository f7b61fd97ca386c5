import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { StoreEventTypes, type RolloutSpec, type StoreAutoscale, type StoreEnvVar, type StoreProbe, type RolloutState, type Store, type StoreEvent, type StoreEventData, type StoreStatus, type StoreTemplate } from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import { storeUrl, type StoreUrlSettings } from '../drivers/kubernetes/store-url.js';

export interface StoreRow {
  id: string;
  team_id: string;
  created_by: string;
  name: string;
  /** Recorded at creation: `{prefix}-{name}` with the installation's prefix then (`store-{name}` for older stores). */
  namespace: string;
  template: StoreTemplate;
  status: StoreStatus;
  error: string | null;
  revision: number;
  stable_revision: number | null;
  version: string;
  replicas: number;
  rollout: RolloutSpec;
  observed_ready: number;
  observed_revision: number | null;
  secrets: string;
  created_at: Date;
  ready_at: Date | null;
  updated_at: Date;
  /** Health columns (see StoreHealthRepository); absent from rows made up by tests. */
  health?: 'up' | 'down' | null;
  health_reason?: string | null;
  health_since?: Date | null;
  /** Rollout control columns (see RolloutControl); absent from rows made up by tests. */
  rollout_state?: Omit<RolloutState, 'paused'> | null;
  rollout_paused?: boolean;
  rollout_command?: string | null;
  /** Store spec columns (env, probes, autoscale); absent from rows made up by tests. */
  env?: StoreEnvVar[];
  probes?: StoreProbes;
  autoscale?: StoreAutoscale | null;
}

export interface StoreProbes {
  readinessProbe?: StoreProbe;
  livenessProbe?: StoreProbe;
}

/** What a store spec sets besides version, replicas and rollout; `restart` when pods must be replaced for it. */
export interface StoreSettings {
  env: StoreEnvVar[];
  probes: StoreProbes;
  autoscale: StoreAutoscale | null;
  restart: boolean;
}

export interface RevisionRow {
  store_id: string;
  revision: number;
  version: string;
  replicas: number;
  rollout: RolloutSpec;
  status: 'pending' | 'rolling' | 'ready' | 'failed' | 'rolled_back';
}

/** The store's namespace as its row records it (`store-{name}` for a row read before the column existed). */
export const namespaceOf = (row: Pick<StoreRow, 'name' | 'namespace'>): string => row.namespace ?? `store-${row.name}`;

/** The store as API.md shows it; its URL's scheme follows the store chart values (storeUrl). */
export function storeView(row: StoreRow, urls: StoreUrlSettings): Store {
  return {
    id: row.id,
    name: row.name,
    template: row.template,
    status: row.status,
    ...(row.error ? { error: row.error } : {}),
    namespace: namespaceOf(row),
    url: storeUrl(row, urls),
    revision: row.revision,
    desired: { version: row.version, replicas: row.replicas, rollout: row.rollout },
    observed: { readyReplicas: row.observed_ready, revision: row.observed_revision },
    health: { status: row.health ?? 'unknown', reason: row.health_reason ?? null, since: row.health_since?.toISOString() ?? null },
    ...(row.status === 'updating' && row.rollout_state ? { rollout: { ...row.rollout_state, paused: row.rollout_paused ?? false } } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.ready_at ? { readyAt: row.ready_at.toISOString() } : {}),
  };
}

/**
 * The provisioner's tables. Status changes go with an entry in the store's event log
 * and, for the ones others listen to, a `store.*` event in the same transaction.
 */
@Injectable()
export class StoreRepository {
  constructor(
    readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async find(id: string): Promise<StoreRow | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM stores WHERE id = $1`, [id])) as StoreRow[];
    return row;
  }

  async list(teamId: string | null): Promise<StoreRow[]> {
    return teamId
      ? ((await this.dataSource.query(`SELECT * FROM stores WHERE team_id = $1 ORDER BY created_at DESC, id DESC`, [teamId])) as StoreRow[])
      : ((await this.dataSource.query(`SELECT * FROM stores ORDER BY created_at DESC, id DESC`)) as StoreRow[]);
  }

  /** Stores the reconcile loop looks after. */
  async all(): Promise<StoreRow[]> {
    return (await this.dataSource.query(`SELECT * FROM stores ORDER BY created_at`)) as StoreRow[];
  }

  /** Every store's id and namespace, for the orphan sweep. */
  async namespaces(): Promise<Pick<StoreRow, 'id' | 'namespace'>[]> {
    return (await this.dataSource.query(`SELECT id, namespace FROM stores`)) as Pick<StoreRow, 'id' | 'namespace'>[];
  }

  async revision(storeId: string, revision: number): Promise<RevisionRow | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM revisions WHERE store_id = $1 AND revision = $2`, [storeId, revision])) as RevisionRow[];
    return row;
  }

  async events(storeId: string, limit = 500): Promise<StoreEvent[]> {
    const rows = (await this.dataSource.query(
      `SELECT at, type, message FROM (SELECT * FROM store_events WHERE store_id = $1 ORDER BY id DESC LIMIT $2) e ORDER BY id`,
      [storeId, limit],
    )) as { at: Date; type: string; message: string }[];
    return rows.map((r) => ({ at: r.at.toISOString(), type: r.type, message: r.message }));
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(`SELECT status, count(*)::int AS n FROM stores GROUP BY status`)) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Appends to the store's event log (what `GET /stores/{id}/events` shows). */
  async log(storeId: string, type: string, message: string, m: EntityManager | DataSource = this.dataSource): Promise<void> {
    await m.query(`INSERT INTO store_events (store_id, type, message) VALUES ($1, $2, $3)`, [storeId, type, message]);
  }

  /**
   * Changes a store under a condition on its current status, logs `message`, and
   * publishes `eventType` through the outbox — all or nothing. Returns the new row, or
   * `undefined` when the condition did not hold.
   */
  async transition(
    storeId: string,
    change: { set: Partial<Record<keyof StoreRow, unknown>>; whenStatus?: StoreStatus[] },
    event: { type: string; message: string; publish?: string | string[]; actor?: string },
    m?: EntityManager,
  ): Promise<StoreRow | undefined> {
    const run = async (tx: EntityManager): Promise<StoreRow | undefined> => {
      const columns = Object.keys(change.set);
      const values = Object.values(change.set).map((v) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
      const assignments = columns.map((c, i) => `${c} = $${i + 2}`).join(', ');
      const condition = change.whenStatus ? ` AND status = ANY($${columns.length + 2}::text[])` : '';
      const [[row]] = (await tx.query(
        `UPDATE stores SET ${assignments}${assignments ? ', ' : ''}updated_at = clock_timestamp() WHERE id = $1${condition} RETURNING *`,
        [storeId, ...values, ...(change.whenStatus ? [change.whenStatus] : [])],
      )) as [StoreRow[], number];
      if (!row) return undefined;
      await this.log(storeId, event.type, event.message, tx);
      for (const type of [event.publish ?? []].flat()) await this.publish(tx, type, row, event.message, event.actor);
      return row;
    };
    const row = m ? await run(m) : await this.dataSource.transaction(run);
    if (row && event.publish && !m) this.outbox.flush();
    return row;
  }

  async publish(m: EntityManager, type: string, row: StoreRow, message: string, actor?: string): Promise<void> {
    const data: StoreEventData = { storeId: row.id, name: row.name, teamId: row.team_id, status: row.status, revision: row.revision, message, ...(actor ? { actor } : {}) };
    await this.outbox.add(m, type, data);
  }

  async setRevisionStatus(storeId: string, revision: number, status: RevisionRow['status']): Promise<void> {
    await this.dataSource.query(
      `UPDATE revisions SET status = $3, finished_at = CASE WHEN $3 IN ('ready', 'failed', 'rolled_back') THEN clock_timestamp() ELSE NULL END WHERE store_id = $1 AND revision = $2`,
      [storeId, revision, status],
    );
  }

  /** A replica change of a revision, once it is in effect. */
  async setRevisionReplicas(storeId: string, revision: number, replicas: number): Promise<void> {
    await this.dataSource.query(`UPDATE revisions SET replicas = $3 WHERE store_id = $1 AND revision = $2`, [storeId, revision, replicas]);
  }

  async observed(storeId: string, ready: number, revision: number | null): Promise<void> {
    await this.dataSource.query(`UPDATE stores SET observed_ready = $2, observed_revision = $3 WHERE id = $1 AND (observed_ready, observed_revision) IS DISTINCT FROM ($2, $3)`, [
      storeId,
      ready,
      revision,
    ]);
  }

  /** Removes a store whose cluster side is gone, announcing `store.deleted`. */
  async remove(row: StoreRow): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(`DELETE FROM stores WHERE id = $1`, [row.id]);
      await this.publish(m, StoreEventTypes.Deleted, row, `store ${row.name} deleted`);
    });
    this.outbox.flush();
  }

  flush(): void {
    this.outbox.flush();
  }
}
