import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ENV } from '@flotilla/config';
import { AuditActions, type NotificationEvent, type NotificationPayload } from '@flotilla/contracts';
import type { AdminEnv } from '../admin.env.js';
import { AuditLog } from '../audit/audit-log.js';
import { EmailSender } from './email.js';
import { sendWebhook } from './webhook.js';

/** Deliveries one pass claims; they are sent at the same time. */
const BATCH = 10;

/** How often settled deliveries past their retention are removed. */
const PURGE_EVERY_MS = 3600_000;

interface DueRow {
  id: string;
  channel_id: string;
  event: NotificationEvent;
  occurred_at: Date;
  summary: string;
  data: Record<string, unknown>;
  attempts: number;
  kind: 'webhook' | 'email';
  url: string | null;
  secret: string | null;
  recipients: string[] | null;
}

/**
 * Sends queued notification deliveries. Each pass claims due `pending` rows with
 * `FOR UPDATE SKIP LOCKED` and holds them until they are settled, so two admin replicas
 * never send the same delivery at once; a replica that dies mid-send leaves its rows to
 * be claimed again (a delivery may then arrive twice, with the same `X-Flotilla-Delivery`).
 * A failed attempt waits `NOTIFY_RETRY_BASE_MS` · 2^(attempts − 1); after
 * `NOTIFY_MAX_ATTEMPTS` the delivery is `dead`, logged and audited — never a dead letter,
 * so a notification's failure notifies nothing.
 */
@Injectable()
export class NotificationDeliverer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationDeliverer.name);
  readonly email: EmailSender;
  private running?: Promise<void>;
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(ENV) private readonly env: AdminEnv,
  ) {
    this.email = new EmailSender(env.SMTP_URL, env.SMTP_FROM, env.NOTIFY_TIMEOUT_MS);
  }

  onApplicationBootstrap(): void {
    this.running = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.email.close();
  }

  /** Looks for due deliveries now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let purgedAt = 0;
    while (!this.stopped) {
      if (Date.now() - purgedAt > PURGE_EVERY_MS) {
        purgedAt = Date.now();
        await this.purge().catch((error: unknown) => this.logger.warn(`notification delivery purge failed: ${String(error)}`));
      }
      let claimed = 0;
      try {
        claimed = await this.deliverDue();
      } catch (error) {
        this.logger.warn(`notification delivery pass failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (claimed === 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.env.NOTIFY_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Removes sent and dead deliveries older than `NOTIFY_RETENTION_DAYS`; returns how many. */
  async purge(): Promise<number> {
    const [, removed] = (await this.dataSource.query(
      `DELETE FROM notification_deliveries WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1::int)`,
      [this.env.NOTIFY_RETENTION_DAYS],
    )) as [unknown, number];
    return removed;
  }

  /** One pass: claims up to {@link BATCH} due deliveries, sends them, settles each. Returns how many it claimed. */
  async deliverDue(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `SELECT d.id, d.channel_id, d.event, d.occurred_at, d.summary, d.data, d.attempts, c.kind, c.url, c.secret, c.recipients
           FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
          ORDER BY d.next_attempt_at LIMIT ${BATCH} FOR UPDATE OF d SKIP LOCKED`,
      )) as DueRow[];
      const outcomes = await Promise.all(rows.map((row) => this.send(row).then(() => null, (error: unknown) => (error instanceof Error ? error.message : String(error)))));
      for (const [i, row] of rows.entries()) await this.settle(m, row, outcomes[i] ?? null);
      return rows.length;
    });
  }

  private async send(row: DueRow): Promise<void> {
    const payload: NotificationPayload = { id: row.id, event: row.event, occurredAt: row.occurred_at.toISOString(), summary: row.summary, data: row.data };
    if (row.kind === 'webhook') await sendWebhook({ url: row.url ?? '', secret: row.secret ?? '' }, payload, this.env.NOTIFY_TIMEOUT_MS);
    else await this.email.send(row.recipients ?? [], payload);
  }

  private async settle(m: EntityManager, row: DueRow, error: string | null): Promise<void> {
    const attempts = row.attempts + 1;
    if (error === null) {
      await m.query(
        `UPDATE notification_deliveries SET status = 'sent', attempts = $2, last_error = NULL, last_attempt_at = clock_timestamp(), sent_at = clock_timestamp() WHERE id = $1`,
        [row.id, attempts],
      );
      return;
    }
    const message = error.slice(0, 1000);
    if (attempts < this.env.NOTIFY_MAX_ATTEMPTS) {
      const waitMs = this.env.NOTIFY_RETRY_BASE_MS * 2 ** (attempts - 1);
      await m.query(
        `UPDATE notification_deliveries SET attempts = $2, last_error = $3, last_attempt_at = clock_timestamp(),
                next_attempt_at = clock_timestamp() + make_interval(secs => $4::double precision / 1000) WHERE id = $1`,
        [row.id, attempts, message, waitMs],
      );
      return;
    }
    await m.query(`UPDATE notification_deliveries SET status = 'dead', attempts = $2, last_error = $3, last_attempt_at = clock_timestamp() WHERE id = $1`, [
      row.id,
      attempts,
      message,
    ]);
    await this.audit.record(m, {
      action: AuditActions.NotificationDead,
      outcome: 'failure',
      actorId: null,
      target: `notification:${row.channel_id}`,
      details: { deliveryId: row.id, event: row.event, attempts, error: message.slice(0, 300) },
    });
    this.logger.warn(`notification delivery ${row.id} (${row.event}, channel ${row.channel_id}) is dead after ${attempts} attempt(s): ${message}`);
  }
}
