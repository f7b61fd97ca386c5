import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ENV, Naming } from '@flotilla/config';
import { AuditActions, UploadAdminRpc, type CleanupRun, type RpcActor } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';
import { AuditLog } from '../audit/audit-log.js';

interface CleanupRow {
  id: string;
  trigger: 'schedule' | 'manual';
  actor_id: string | null;
  retention_days: number;
  started_at: Date;
  finished_at: Date | null;
  status: CleanupRun['status'];
  datasets_deleted: number;
  objects_deleted: number;
  bytes_freed: string;
  error: string | null;
}

interface PurgeResult {
  datasetsDeleted: number;
  objectsDeleted: number;
  bytesFreed: number;
}

/**
 * Retention cleanup: a repeatable BullMQ job (every `CLEANUP_INTERVAL_MS`, and on
 * demand) asks `upload`, the owner of datasets, to purge those older than
 * `RETENTION_DAYS` with their objects, and records what was freed. One run at a time.
 */
@Injectable()
export class Cleanup implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Cleanup.name);
  private readonly connections: Redis[] = [];
  private queue!: Queue;
  private worker?: Worker;
  private readonly prefix: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    private readonly audit: AuditLog,
    @Inject(ENV) private readonly env: AdminEnv,
    naming: Naming,
  ) {
    this.prefix = naming.key('bull');
  }

  onModuleInit(): void {
    this.queue = new Queue('cleanup', { connection: this.connection('queue', false), prefix: this.prefix });
    this.queue.on('error', (error) => this.logger.warn(`queue: ${error.message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = new Worker('cleanup', (job: Job<{ trigger: 'schedule' | 'manual'; actorId?: string; runId?: string }>) => this.run(job.data), {
      connection: this.connection('worker', true),
      prefix: this.prefix,
      concurrency: 1,
      lockDuration: 120_000,
    });
    this.worker.on('error', (error) => this.logger.warn(`worker: ${error.message}`));
    await this.queue
      .upsertJobScheduler('retention', { every: this.env.CLEANUP_INTERVAL_MS }, { name: 'cleanup', data: { trigger: 'schedule' }, opts: { removeOnComplete: true, removeOnFail: true } })
      .catch((error: unknown) => this.logger.warn(`cleanup schedule not set: ${String(error)}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    for (const c of this.connections) c.disconnect();
  }

  /** Queues a run now; resolves with the run's record once it is queued (it shows `running`). */
  async runNow(actor: RpcActor): Promise<CleanupRun> {
    const runId = randomUUID();
    await this.dataSource.query(`INSERT INTO cleanup_runs (id, trigger, actor_id, retention_days, status) VALUES ($1, 'manual', $2, $3, 'running')`, [
      runId,
      actor.userId,
      this.env.RETENTION_DAYS,
    ]);
    await this.queue.add('cleanup', { trigger: 'manual', actorId: actor.userId, runId }, { jobId: `cleanup-${runId}`, removeOnComplete: true, removeOnFail: true });
    return (await this.get(runId))!;
  }

  async log(limit = 100): Promise<CleanupRun[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM cleanup_runs ORDER BY started_at DESC LIMIT $1`, [limit])) as CleanupRow[];
    return rows.map(view);
  }

  private async get(id: string): Promise<CleanupRun | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM cleanup_runs WHERE id = $1`, [id])) as CleanupRow[];
    return row ? view(row) : undefined;
  }

  private async run(data: { trigger: 'schedule' | 'manual'; actorId?: string; runId?: string }): Promise<void> {
    const runId = data.runId ?? randomUUID();
    if (!data.runId) {
      await this.dataSource.query(`INSERT INTO cleanup_runs (id, trigger, retention_days, status) VALUES ($1, 'schedule', $2, 'running')`, [runId, this.env.RETENTION_DAYS]);
    }
    const before = new Date(Date.now() - this.env.RETENTION_DAYS * 86_400_000).toISOString();
    const actor = { userId: data.actorId ?? '00000000-0000-0000-0000-000000000000', role: 'admin' as const, teamId: null };
    let result: PurgeResult | undefined;
    let error: string | undefined;
    try {
      result = await this.rpc.call<PurgeResult>('upload', UploadAdminRpc.Purge, { before }, { actor, timeoutMs: 110_000 });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE cleanup_runs SET finished_at = clock_timestamp(), status = $2, datasets_deleted = $3, objects_deleted = $4, bytes_freed = $5, error = $6 WHERE id = $1`,
        [runId, error ? 'failed' : 'succeeded', result?.datasetsDeleted ?? 0, result?.objectsDeleted ?? 0, result?.bytesFreed ?? 0, error ?? null],
      );
      await this.audit.record(m, {
        action: AuditActions.CleanupRun,
        outcome: error ? 'failure' : 'success',
        actorId: data.actorId ?? null,
        target: `cleanup:${runId}`,
        details: { trigger: data.trigger, retentionDays: this.env.RETENTION_DAYS, before, ...(result ?? {}), ...(error ? { error } : {}) },
      });
    });
    if (error) this.logger.warn(`cleanup ${runId} failed: ${error}`);
    else this.logger.log(`cleanup ${runId}: ${result!.datasetsDeleted} dataset(s), ${result!.objectsDeleted} object(s), ${result!.bytesFreed} bytes freed`);
  }

  private connection(name: string, blocking: boolean): Redis {
    const redis = new Redis(this.env.REDIS_URL, { connectionName: `admin-${name}`, maxRetriesPerRequest: blocking ? null : 1, enableOfflineQueue: blocking });
    redis.on('error', () => undefined);
    this.connections.push(redis);
    return redis;
  }
}

function view(row: CleanupRow): CleanupRun {
  return {
    id: row.id,
    trigger: row.trigger,
    actorId: row.actor_id,
    retentionDays: row.retention_days,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    status: row.status,
    datasetsDeleted: row.datasets_deleted,
    objectsDeleted: row.objects_deleted,
    bytesFreed: Number(row.bytes_freed),
    error: row.error,
  };
}
