import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StoreEventTypes, type EventEnvelope, type StoreEventData, type StoreHealthEventData } from '@flotilla/contracts';
import { EventConsumer } from '@flotilla/messaging';
import { enqueueNotification } from './enqueue.js';

/**
 * Store happenings from the bus that notify: `store.health` (up/down) and
 * `store.rollback`. Keyed by the bus event's id, so a redelivered event queues nothing new.
 * Service up/down and dead letters are queued where they are recorded (ServiceMonitor,
 * the dead-letter collector), in the same transaction.
 */
@Injectable()
export class NotificationEventSources implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventConsumer,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.subscribe<StoreHealthEventData>([StoreEventTypes.Health], (e) => this.storeHealth(e));
    await this.events.subscribe<StoreEventData>([StoreEventTypes.Rollback], (e) => this.rollback(e));
  }

  private async storeHealth(e: EventEnvelope<StoreHealthEventData>): Promise<void> {
    const d = e.data;
    if (!d?.storeId || (d.health !== 'up' && d.health !== 'down')) return;
    // A new store's first check finding it up is no recovery: nobody was told it was down.
    if (d.health === 'up' && d.previous === 'unknown') return;
    const name = String(d.name ?? d.storeId);
    await enqueueNotification(this.dataSource, {
      event: d.health === 'down' ? 'store.down' : 'store.up',
      sourceId: `event:${e.id}`,
      occurredAt: e.occurredAt,
      summary: d.health === 'down' ? `Store ${name} is down: ${d.reason ?? 'no reason given'}` : `Store ${name} is up again`,
      data: { storeId: d.storeId, name, teamId: d.teamId ?? null, health: d.health, reason: d.reason ?? null, revision: d.revision ?? null },
    });
  }

  private async rollback(e: EventEnvelope<StoreEventData>): Promise<void> {
    const d = e.data;
    if (!d?.storeId) return;
    const name = String(d.name ?? d.storeId);
    await enqueueNotification(this.dataSource, {
      event: 'store.rollback',
      sourceId: `event:${e.id}`,
      occurredAt: e.occurredAt,
      summary: `Store ${name} rolled back: ${d.message ?? 'no reason given'}`,
      data: { storeId: d.storeId, name, teamId: d.teamId ?? null, revision: d.revision ?? null, status: d.status ?? null, reason: d.message ?? null },
    });
  }
}
