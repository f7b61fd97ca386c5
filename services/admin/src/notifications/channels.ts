import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditActions, RpcError, type CreateNotificationChannelDto, type NotificationChannel, type NotificationDelivery, type RpcActor } from '@flotilla/contracts';
import { AuditLog } from '../audit/audit-log.js';
import { NotificationDeliverer } from './deliverer.js';
import { SMTP_NOT_CONFIGURED } from './email.js';
import { enqueueTest } from './enqueue.js';

interface ChannelRow {
  id: string;
  kind: 'webhook' | 'email';
  url: string | null;
  secret_set: boolean;
  recipients: string[] | null;
  events: string[];
  created_at: Date;
  created_by: string | null;
  last_at: Date | null;
  last_status: 'pending' | 'sent' | 'dead' | null;
  last_error: string | null;
}

interface DeliveryRow {
  id: string;
  event: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** Deliveries listed per channel, newest first. */
const DELIVERIES_DEFAULT = 50;

/** Columns of a channel as shown: never its secret, only whether one is set. */
const CHANNEL_VIEW = `
  SELECT c.id, c.kind, c.url, c.secret IS NOT NULL AS secret_set, c.recipients, c.events, c.created_at, c.created_by,
         l.at AS last_at, l.status AS last_status, l.last_error
    FROM notification_channels c
    LEFT JOIN LATERAL (
      SELECT COALESCE(d.sent_at, d.last_attempt_at, d.created_at) AS at, d.status, d.last_error
        FROM notification_deliveries d WHERE d.channel_id = c.id ORDER BY d.created_at DESC, d.id DESC LIMIT 1
    ) l ON true`;

/** The channels admins configure (`/admin/notifications`); each change audited in its transaction. */
@Injectable()
export class NotificationChannels {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly deliverer: NotificationDeliverer,
  ) {}

  async list(): Promise<{ items: NotificationChannel[] }> {
    const rows = (await this.dataSource.query(`${CHANNEL_VIEW} ORDER BY c.created_at, c.id`)) as ChannelRow[];
    return { items: rows.map(view) };
  }

  async create(input: CreateNotificationChannelDto, actor: RpcActor): Promise<NotificationChannel> {
    const id = randomUUID();
    await this.dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO notification_channels (id, kind, url, secret, recipients, events, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        id,
        input.kind,
        input.kind === 'webhook' ? input.url : null,
        input.kind === 'webhook' ? input.secret : null,
        input.kind === 'email' ? input.to : null,
        input.events,
        actor.userId,
      ]);
      await this.audit.record(m, {
        action: AuditActions.NotificationCreated,
        outcome: 'success',
        actorId: actor.userId,
        target: `notification:${id}`,
        details: { kind: input.kind, events: input.events, ...(input.kind === 'webhook' ? { url: input.url } : { to: input.to }) },
      });
    });
    const channel = await this.find(id);
    // An e-mail channel is kept while SMTP is not configured (it may be set later); the answer says its deliveries will fail until then.
    return input.kind === 'email' && !this.deliverer.email.configured ? { ...channel, warning: `${SMTP_NOT_CONFIGURED}; deliveries to this channel fail until it is` } : channel;
  }

  async remove(id: string, actor: RpcActor): Promise<void> {
    const removed = await this.dataSource.transaction(async (m) => {
      const [rows] = (await m.query(`DELETE FROM notification_channels WHERE id = $1 RETURNING kind`, [id])) as [{ kind: string }[], number];
      if (rows.length === 0) return false;
      await this.audit.record(m, { action: AuditActions.NotificationDeleted, outcome: 'success', actorId: actor.userId, target: `notification:${id}`, details: { kind: rows[0]!.kind } });
      return true;
    });
    if (!removed) throw notFound(id);
  }

  /** Queues a `test` delivery to the channel; the deliverer sends it as any other. */
  async test(id: string, actor: RpcActor): Promise<{ deliveryId: string; status: 'pending' }> {
    const deliveryId = await this.dataSource.transaction(async (m) => {
      const [channel] = (await m.query(`SELECT id FROM notification_channels WHERE id = $1 FOR SHARE`, [id])) as unknown[];
      if (!channel) throw notFound(id);
      const queued = await enqueueTest(m, id, `test:${randomUUID()}`, actor.userId);
      await this.audit.record(m, { action: AuditActions.NotificationTested, outcome: 'success', actorId: actor.userId, target: `notification:${id}`, details: { deliveryId: queued } });
      return queued;
    });
    this.deliverer.nudge();
    return { deliveryId, status: 'pending' };
  }

  async deliveries(id: string, limit = DELIVERIES_DEFAULT): Promise<{ items: NotificationDelivery[] }> {
    await this.find(id);
    const rows = (await this.dataSource.query(
      `SELECT id, event, status, attempts, last_error, created_at, sent_at FROM notification_deliveries WHERE channel_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [id, limit],
    )) as DeliveryRow[];
    return {
      items: rows.map((r) => ({
        id: r.id,
        event: r.event as NotificationDelivery['event'],
        status: r.status,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: r.created_at.toISOString(),
        sentAt: r.sent_at?.toISOString() ?? null,
      })),
    };
  }

  private async find(id: string): Promise<NotificationChannel> {
    const [row] = (await this.dataSource.query(`${CHANNEL_VIEW} WHERE c.id = $1`, [id])) as ChannelRow[];
    if (!row) throw notFound(id);
    return view(row);
  }
}

function notFound(id: string): RpcError {
  return new RpcError('NOT_FOUND', `Notification channel ${id} not found.`);
}

function view(row: ChannelRow): NotificationChannel {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.kind === 'webhook' ? { url: row.url ?? '', secretSet: row.secret_set } : { to: row.recipients ?? [] }),
    events: row.events as NotificationChannel['events'],
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    lastDelivery: row.last_at && row.last_status ? { at: row.last_at.toISOString(), status: row.last_status, error: row.last_error } : null,
  };
}
