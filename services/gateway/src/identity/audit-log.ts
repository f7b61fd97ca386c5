import { Injectable, Logger } from '@nestjs/common';
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

/**
 * The gateway's security-relevant actions as `audit.<action>` events, through the
 * outbox: {@link add} in the transaction of the change it records, or {@link record}
 * for actions that change nothing here (a failed login). Passwords and tokens never
 * go into an entry.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

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
