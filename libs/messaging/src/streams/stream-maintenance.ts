import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { messageOf, type StreamLag } from './stream-consumer-options.js';
import { compareStreamIds } from './stream-entry.js';

/** Upper bound of the fallback lag count when Redis cannot compute the lag itself. */
const LAG_SCAN_LIMIT = 100_000;

interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  lag: number | null;
}

export interface MaintenanceSettings {
  stream: string;
  group: string;
  consumer: string;
  forgetConsumersAfterMs: number;
}

/**
 * The stream's upkeep for one consumer group: trimming what every group acknowledged,
 * removing consumers restarted processes left behind, and the group's lag.
 */
export class StreamMaintenance {
  trimmed = 0;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly settings: MaintenanceSettings,
    private readonly logger: Logger,
  ) {}

  /** Periodic trimming and consumer clean-up; a failure here never stops consuming. */
  run(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.trim();
        await this.forgetIdleConsumers();
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.logger.warn(`trimming failed: ${messageOf(error)}`);
        this.failing = true;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves when a run under way has finished. */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Entries not yet delivered to the group, and delivered but unacknowledged (XINFO GROUPS). */
  async lag(): Promise<StreamLag> {
    const { stream, group } = this.settings;
    const groups = await this.groups();
    const own = groups.find((g) => g.name === group);
    if (!own) return { lag: Number(await this.redis.xlen(stream)), pending: 0 };
    let lag = own.lag;
    if (lag === null) {
      // Redis cannot tell after deletions inside the range; count what follows the group's position.
      const rest = (await this.redis.call('XRANGE', stream, `(${own.lastDeliveredId}`, '+', 'COUNT', LAG_SCAN_LIMIT)) as unknown[];
      lag = rest.length;
    }
    return { lag, pending: own.pending };
  }

  /**
   * Removes the entries every group of the stream has acknowledged: XTRIM MINID to the
   * oldest entry still pending, or not yet delivered, in any group. Resolves with the
   * number of entries removed.
   */
  async trim(): Promise<number> {
    const { stream } = this.settings;
    const groups = await this.groups();
    if (groups.length === 0) return 0;
    let keepFrom: string | undefined;
    for (const group of groups) {
      // Pending entries are older than the last delivered id; without any, everything up to
      // and including that id was acknowledged, and it is the oldest we must consider.
      let oldest = group.lastDeliveredId;
      if (group.pending > 0) {
        const summary = (await this.redis.call('XPENDING', stream, group.name)) as [number, string | null, string | null, unknown];
        if (summary[1]) oldest = summary[1];
      }
      if (keepFrom === undefined || compareStreamIds(oldest, keepFrom) < 0) keepFrom = oldest;
    }
    if (keepFrom === undefined || keepFrom === '0-0') return 0;
    const removed = Number(await this.redis.call('XTRIM', stream, 'MINID', keepFrom));
    this.trimmed += removed;
    return removed;
  }

  private async groups(): Promise<GroupInfo[]> {
    let reply: unknown[][];
    try {
      reply = (await this.redis.call('XINFO', 'GROUPS', this.settings.stream)) as unknown[][];
    } catch (error) {
      if (/no such key/i.test(messageOf(error))) return [];
      throw error;
    }
    return reply.map((flat) => {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      const lag = info.get('lag');
      return {
        name: String(info.get('name')),
        pending: Number(info.get('pending') ?? 0),
        lastDeliveredId: String(info.get('last-delivered-id') ?? '0-0'),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
  }

  /** Restarted processes leave their consumers behind; drop those with nothing pending. */
  private async forgetIdleConsumers(): Promise<void> {
    const { stream, group, consumer, forgetConsumersAfterMs } = this.settings;
    const consumers = (await this.redis.call('XINFO', 'CONSUMERS', stream, group)) as unknown[][];
    for (const flat of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      const name = String(info.get('name'));
      if (name === consumer || Number(info.get('pending')) > 0) continue;
      if (Number(info.get('idle')) > forgetConsumersAfterMs) {
        await this.redis.call('XGROUP', 'DELCONSUMER', stream, group, name);
      }
    }
  }
}
