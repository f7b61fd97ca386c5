import type { DataSource, EntityManager } from 'typeorm';
import type { NotificationEvent } from '@flotilla/contracts';

/** Something that happened, as every channel subscribed to its event is told. */
export interface NotificationSource {
  event: NotificationEvent;
  /**
   * What it came from (`event:<bus event id>`, `service-transition:<id>`, …): one delivery
   * per channel and source, so the same happening seen twice notifies once.
   */
  sourceId: string;
  occurredAt: Date | string;
  /** One line naming what happened, to what, and why. */
  summary: string;
  data: Record<string, unknown>;
}

/**
 * Queues a delivery of `source` to every channel subscribed to its event, in `m`'s
 * transaction (so it is recorded with what it reports, or not at all). The deliverer
 * sends it. Returns how many were queued.
 */
export async function enqueueNotification(m: EntityManager | DataSource, source: NotificationSource): Promise<number> {
  const rows = (await m.query(
    `INSERT INTO notification_deliveries (id, channel_id, event, source_id, occurred_at, summary, data)
     SELECT gen_random_uuid(), c.id, $1, $2, $3, $4, $5 FROM notification_channels c WHERE $1 = ANY (c.events)
     ON CONFLICT (channel_id, source_id) DO NOTHING RETURNING id`,
    [source.event, source.sourceId.slice(0, 300), validDate(source.occurredAt), source.summary.slice(0, 1000), JSON.stringify(source.data)],
  )) as { id: string }[];
  return rows.length;
}

/** Queues a `test` delivery to one channel. */
export async function enqueueTest(m: EntityManager, channelId: string, sourceId: string, actorId: string): Promise<string> {
  const [row] = (await m.query(
    `INSERT INTO notification_deliveries (id, channel_id, event, source_id, occurred_at, summary, data)
     VALUES (gen_random_uuid(), $1, 'test', $2, clock_timestamp(), $3, $4) RETURNING id`,
    [channelId, sourceId, 'Test notification from Flotilla: this channel works.', JSON.stringify({ requestedBy: actorId })],
  )) as { id: string }[];
  return row!.id;
}

/** A bus event's own time when it is one, else now. */
function validDate(value: Date | string): Date {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? new Date() : date;
}
