import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { TEST_REDIS_URL } from '@flotilla/testing';
import type { ServiceName } from '../../e2e/support/platform.js';
import { ServiceDb } from '../support/chaos.js';

/** The Postgres schema each service owns. */
export const SCHEMA_OF: Record<ServiceName, string> = {
  gateway: 'identity',
  'vote-consumer': 'votes',
  upload: 'upload',
  validator: 'validation',
  provisioner: 'provisioner',
  admin: 'admin',
};

/** How scheduled work went, period by period. */
export interface Periods {
  /** Runs seen. */
  ran: number;
  /** Runs less than half a period after the one before: a period's work done twice. */
  duplicated: number;
  /** Periods between the first and the last run in which it did not run. */
  missed: number;
}

/** Judges runs by the gaps between them, so it does not matter where the schedule's periods begin. */
export function periods(times: number[], intervalMs: number): Periods {
  const sorted = [...times].sort((a, b) => a - b);
  let duplicated = 0;
  let missed = 0;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]! - sorted[i - 1]!;
    if (gap < intervalMs / 2) duplicated++;
    else missed += Math.max(0, Math.round(gap / intervalMs) - 1);
  }
  return { ran: sorted.length, duplicated, missed };
}

/** The admin's cleanup log: the start of every scheduled run. */
export async function scheduledCleanups(namespace: string, intervalMs: number): Promise<{ startedAt: number[]; periods: Periods; failedAt: number[] }> {
  const db = await ServiceDb.open(namespace, SCHEMA_OF.admin);
  try {
    const rows = await db.rows<{ started_at: Date; status: string }>(`SELECT started_at, status FROM cleanup_runs WHERE trigger = 'schedule' ORDER BY started_at`);
    const startedAt = rows.map((r) => r.started_at.getTime());
    return { startedAt, periods: periods(startedAt, intervalMs), failedAt: rows.filter((r) => r.status === 'failed').map((r) => r.started_at.getTime()) };
  } finally {
    await db.close();
  }
}

/**
 * The reconcile passes, from the BullMQ events stream of the provisioner's queue: each
 * pass is the job `repeat:reconcile:<period start>`, started ("active") and finished
 * ("completed") once unless it ran twice. A pass whose runner was killed is started
 * again by another worker once its lock lapses: that is a second start, not a second pass.
 */
export async function reconcilePasses(namespace: string, intervalMs: number): Promise<{ periods: Periods; startedTwice: number; failed: number; completedAt: number[] }> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    const entries = await redis.xrange(new Naming(namespace).key('bull:stores:events'), '-', '+');
    const active = new Map<string, number>();
    const completed = new Map<string, number>();
    const failed = new Map<string, number>();
    for (const [, fields] of entries) {
      const field = (name: string): string | undefined => {
        const i = fields.findIndex((f, k) => k % 2 === 0 && f === name);
        return i < 0 ? undefined : fields[i + 1];
      };
      const jobId = field('jobId') ?? '';
      if (!jobId.startsWith('repeat:reconcile:')) continue;
      const counts = ({ active, completed, failed } as Record<string, Map<string, number>>)[field('event') ?? ''];
      counts?.set(jobId, (counts.get(jobId) ?? 0) + 1);
    }
    const at = (jobId: string): number => Number(jobId.split(':').pop());
    return {
      periods: periods([...completed.entries()].flatMap(([jobId, n]) => Array<number>(n).fill(at(jobId))), intervalMs),
      startedTwice: [...active.values()].filter((n) => n > 1).length,
      failed: [...failed.values()].reduce((a, b) => a + b, 0),
      completedAt: [...completed.keys()].map(at).sort((a, b) => a - b),
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * What an instance's start output shows of migrating at the same moment as another: the
 * migrations TypeORM reports failing (`Migration "<name>" failed`), or else catalog unique
 * violations (two sessions creating one schema or table). TypeORM's connection retry
 * hides both: the instance starts on its second try and finds nothing pending.
 */
export function migrationClashes(output: string): string[] {
  // Plain text or inside a JSON log line, where the quotes are escaped.
  const failed = [...output.matchAll(/Migration \\?"([\w-]+)\\?" failed/g)].map((m) => `migration ${m[1]} failed`);
  const catalog = [...output.matchAll(/violates unique constraint \\?"(pg_\w+)/g)].map((m) => `catalog ${m[1]}`);
  return [...new Set(failed.length ? failed : catalog)];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Each schema's migrations table against the service's migrations: rows per migration name. */
export async function migrationRows(namespace: string, service: ServiceName): Promise<{ expected: number; rows: number; names: number }> {
  const expected = readdirSync(`${ROOT}services/${service}/src/migrations`).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts')).length;
  const db = await ServiceDb.open(namespace, SCHEMA_OF[service]);
  try {
    const rows = await db.scalar('SELECT count(*) AS n FROM migrations');
    const names = await db.scalar('SELECT count(DISTINCT name) AS n FROM migrations');
    return { expected, rows, names };
  } finally {
    await db.close();
  }
}
