import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import {
  AuditActions,
  DatasetEvents,
  RpcError,
  StoreEventTypes,
  type AuditEntry,
  type AuditEventData,
  type DatasetDeletedData,
  type EventEnvelope,
  type Page,
  type StoreEventData,
} from '@flotilla/contracts';
import { EventConsumer } from '@flotilla/messaging';

export interface AuditFilter {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

interface AuditRow {
  id: string;
  at: Date;
  source: string;
  action: string;
  outcome: 'success' | 'failure';
  actor_id: string | null;
  actor_email: string | null;
  ip: string | null;
  target: string | null;
  details: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The audit log: security-relevant actions from every service's events (`audit.*`
 * from the gateway; dataset deletions, store deletions and chaos from their owners)
 * and the admin's own actions. Keyed by event id, so a redelivered event is one entry.
 */
@Injectable()
export class AuditLog implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventConsumer,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.subscribe<AuditEventData>(['audit.#'], (e) => this.insert(e.id, e.occurredAt, e.source, e.data));
    await this.events.subscribe<DatasetDeletedData>([DatasetEvents.Deleted], (e) =>
      this.insert(e.id, e.occurredAt, e.source, {
        action: AuditActions.DatasetDeleted,
        outcome: 'success',
        actorId: e.data.deletedBy ?? null,
        target: `dataset:${e.data.datasetId}`,
        details: { teamId: e.data.teamId },
      }),
    );
    await this.events.subscribe<StoreEventData>([StoreEventTypes.Deleting, StoreEventTypes.Chaos], (e: EventEnvelope<StoreEventData>) =>
      this.insert(e.id, e.occurredAt, e.source, {
        action: e.type === StoreEventTypes.Chaos ? AuditActions.Chaos : AuditActions.StoreDeleted,
        outcome: 'success',
        actorId: e.data.actor ?? null,
        target: `store:${e.data.storeId}`,
        details: { name: e.data.name, teamId: e.data.teamId, message: e.data.message },
      }),
    );
  }

  /** Records an action of the admin service itself, in the caller's transaction. */
  async record(m: EntityManager, data: AuditEventData): Promise<void> {
    await this.insert(randomUUID(), new Date().toISOString(), 'admin', data, m);
  }

  async query(filter: AuditFilter): Promise<Page<AuditEntry>> {
    const limit = filter.limit ?? 50;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]): void => {
      let text = sql;
      for (const value of values) {
        params.push(value);
        text = text.replace('?', `$${params.length}`);
      }
      where.push(text);
    };
    if (filter.actor) {
      if (UUID.test(filter.actor)) add('actor_id = ?', filter.actor);
      else add(`actor_email ILIKE ?`, `%${filter.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (filter.action) add('action LIKE ?', `${filter.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at < ?', filter.to);
    if (filter.cursor) {
      const [at, id] = Buffer.from(filter.cursor, 'base64url').toString('utf8').split('|');
      if (!at || !id || !UUID.test(id) || Number.isNaN(Date.parse(at))) {
        throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: 'cursor', message: 'cursor is not valid' }]);
      }
      add('(at, id) < (?, ?)', at, id);
    }
    params.push(limit + 1);
    const rows = (await this.dataSource.query(
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    )) as AuditRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(view),
      nextCursor: rows.length > limit && last ? Buffer.from(`${last.at.toISOString()}|${last.id}`).toString('base64url') : null,
    };
  }

  private async insert(id: string, at: string, source: string, data: AuditEventData, m: EntityManager | DataSource = this.dataSource): Promise<void> {
    await m.query(
      `INSERT INTO audit (id, at, source, action, outcome, actor_id, actor_email, ip, target, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [
        id,
        at,
        source,
        String(data.action ?? 'unknown').slice(0, 100),
        data.outcome === 'failure' ? 'failure' : 'success',
        data.actorId && UUID.test(data.actorId) ? data.actorId : null,
        data.actorEmail ? String(data.actorEmail).slice(0, 320) : null,
        data.ip ? String(data.ip).slice(0, 100) : null,
        data.target ? String(data.target).slice(0, 300) : null,
        JSON.stringify(data.details ?? {}),
      ],
    );
  }
}

function view(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    source: row.source,
    action: row.action,
    outcome: row.outcome,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    ip: row.ip,
    target: row.target,
    details: row.details,
  };
}
