import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditEventData } from '@flotilla/contracts';
import { Outbox, type SqlRunner } from '@flotilla/messaging';

/** Who performs an audited action, and from where. */
export interface AuditActor {
  id: string | null;
  email: string | null;
  ip: string | null;
}

/** The routing key of an audit event: `audit.` + the action, e.g. `audit.login.failed`. */
export const auditEventType = (action: string): string => `audit.${action}`;

/** How often the refusals counted since an entry was written are written as one entry each. */
export const REFUSALS_FLUSH_MS = 30_000;
/** Distinct refused keys held between flushes; reaching it flushes at once, so memory stays bounded. */
const MAX_PENDING_REFUSALS = 10_000;

/**
 * The gateway's security-relevant actions as `audit.<action>` events, through the
 * outbox: {@link add} in the transaction of the change it records, or {@link record}
 * for actions that change nothing here (a failed login). Passwords and tokens never
 * go into an entry.
 */
@Injectable()
export class AuditLog implements OnModuleDestroy {
  private readonly logger = new Logger(AuditLog.name);
  /** Refusals not yet written, by key: the latest entry and how many it stands for. */
  private readonly pendingRefusals = new Map<string, { entry: AuditEventData; refusals: number }>();
  private readonly refusalsTimer = setInterval(() => void this.flushRefusals(), REFUSALS_FLUSH_MS).unref();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Records a refusal that an attacker can repeat at will (a throttled login) without one
   * database write each: the first refusal of its window (`first`, counted in Redis, so once
   * across replicas) is written at once; later ones are summed per `key` and written every
   * {@link REFUSALS_FLUSH_MS} as one entry whose `details.refusals` says how many it stands
   * for. Never throws, like {@link recordQuietly}.
   */
  async recordRefusal(key: string, entry: AuditEventData, first: boolean): Promise<void> {
    if (first) return this.recordQuietly({ ...entry, details: { ...entry.details, refusals: 1 } });
    const pending = this.pendingRefusals.get(key);
    this.pendingRefusals.set(key, { entry, refusals: (pending?.refusals ?? 0) + 1 });
    if (this.pendingRefusals.size >= MAX_PENDING_REFUSALS) await this.flushRefusals();
  }

  /** Writes the refusals summed since the last flush, one entry per key, in one transaction. */
  async flushRefusals(): Promise<void> {
    if (this.pendingRefusals.size === 0) return;
    const batch = [...this.pendingRefusals.values()];
    this.pendingRefusals.clear();
    try {
      await this.dataSource.transaction(async (m) => {
        for (const { entry, refusals } of batch) await this.add(m, { ...entry, details: { ...entry.details, refusals } });
      });
      this.flush();
    } catch (error) {
      this.logger.error({ event: 'audit.unrecorded', action: batch[0]?.entry.action, entries: batch.length, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.refusalsTimer);
    await this.flushRefusals();
  }

  /** Writes the event in the caller's transaction; call {@link flush} after the commit. */
  async add(runner: SqlRunner, entry: AuditEventData): Promise<void> {
    await this.outbox.add(runner, auditEventType(entry.action), entry);
  }

  /** Publishes what was committed now rather than at the relay's next poll. */
  flush(): void {
    this.outbox.flush();
  }

  /** Writes the event on its own (one statement, its own transaction) and flushes it. */
  async record(entry: AuditEventData): Promise<void> {
    await this.add(this.dataSource, entry);
    this.flush();
  }

  /**
   * {@link record} for outcomes that must stand whatever happens to the audit entry
   * (a refused login stays a 401 or 429): a failure to write it is logged, not thrown.
   */
  async recordQuietly(entry: AuditEventData): Promise<void> {
    try {
      await this.record(entry);
    } catch (error) {
      this.logger.error({ event: 'audit.unrecorded', action: entry.action, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
