import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ENV, Naming } from '@flotilla/config';
import type { ProvisionerEnv } from '../provisioner.env.js';
import type { StoreRow } from '../stores/store-repository.js';
import { StoreOperations } from './store-operations.js';

export type StoreJobName = 'provision' | 'update' | 'deprovision' | 'reconcile';

interface StoreJobData {
  storeId?: string;
  revision?: number;
}

const QUEUE = 'stores';

/**
 * The provisioner's BullMQ queue: provision, update and deprovision jobs with
 * deterministic ids (a second request for the same operation is the same job),
 * retries with exponential backoff, a lock long enough for `helm --wait`, and a
 * repeatable reconcile job. Workers close gracefully on shutdown.
 */
@Injectable()
export class StoreJobs implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StoreJobs.name);
  private readonly connections: Redis[] = [];
  private queue!: Queue<StoreJobData>;
  private worker?: Worker<StoreJobData>;
  private readonly prefix: string;

  constructor(
    private readonly operations: StoreOperations,
    @Inject(ENV) private readonly env: ProvisionerEnv,
    naming: Naming,
  ) {
    this.prefix = naming.key('bull');
  }

  onModuleInit(): void {
    this.queue = new Queue<StoreJobData>(QUEUE, { connection: this.connection('queue', false), prefix: this.prefix });
    this.queue.on('error', (error) => this.logger.warn(`queue: ${error.message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    // The worker renews a job's lock every lockDuration / 2 while it runs (a Helm install
    // waiting out the rollout deadline included), so the lock only has to outlast a pause of
    // the process; a short one lets a crashed provisioner's jobs be taken up again within
    // lockDuration + stalledInterval, instead of the rollout deadline's 5 minutes and more.
    // Two runs of one store's operation are kept apart by the store lock anyway.
    this.worker = new Worker<StoreJobData>(QUEUE, (job) => this.process(job), {
      connection: this.connection('worker', true),
      prefix: this.prefix,
      concurrency: this.env.PROVISION_CONCURRENCY,
      lockDuration: 30_000,
      stalledInterval: 10_000,
      maxStalledCount: 2,
    });
    this.worker.on('error', (error) => this.logger.warn(`worker: ${error.message}`));
    this.worker.on('failed', (job, error) => this.logger.warn(`${job?.name ?? 'job'} ${job?.id ?? ''} attempt ${job?.attemptsMade ?? '?'} failed: ${error.message}`));
    await this.queue
      .upsertJobScheduler('reconcile', { every: this.env.RECONCILE_INTERVAL_MS }, { name: 'reconcile', opts: { removeOnComplete: true, removeOnFail: true } })
      .catch((error: unknown) => this.logger.warn(`reconcile schedule not set: ${error instanceof Error ? error.message : String(error)}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    for (const connection of this.connections) connection.disconnect();
  }

  /** Queues the operation a store's status calls for; a job already waiting for it is not duplicated. */
  async enqueue(row: Pick<StoreRow, 'id' | 'status' | 'revision' | 'replicas'>): Promise<void> {
    const job = jobFor(row);
    if (!job) return;
    await this.queue.add(job.name, { storeId: row.id, revision: row.revision }, {
      jobId: job.id,
      attempts: 6,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Re-queues the operation of a store whose job was lost (its provisioner died, its attempts ran out). */
  async requeue(row: StoreRow): Promise<void> {
    const job = jobFor(row);
    if (!job) return;
    const existing = await this.queue.getJob(job.id);
    if (existing) return;
    this.logger.warn(`store ${row.name} is ${row.status} without a job; queuing ${job.name} again`);
    await this.enqueue(row);
  }

  /** Jobs by state, for the admin's figures. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  }

  private async process(job: Job<StoreJobData>): Promise<void> {
    const storeId = job.data.storeId ?? '';
    switch (job.name as StoreJobName) {
      case 'provision':
        return this.operations.provision(storeId);
      case 'update':
        return this.operations.update(storeId);
      case 'deprovision':
        return this.operations.deprovision(storeId);
      case 'reconcile':
        return this.operations.reconcile((row) => this.requeue(row));
      default:
        this.logger.warn(`unknown job ${job.name} ignored`);
    }
  }

  private connection(name: string, blocking: boolean): Redis {
    const redis = new Redis(this.env.REDIS_URL, {
      connectionName: `provisioner-${name}`,
      // BullMQ's workers block on Redis and must not give up on a command.
      maxRetriesPerRequest: blocking ? null : 1,
      enableOfflineQueue: blocking,
    });
    redis.on('error', () => undefined);
    this.connections.push(redis);
    return redis;
  }
}

/** The job for a store's status: one id per store and operation (and revision, for updates). */
function jobFor(row: Pick<StoreRow, 'id' | 'status' | 'revision' | 'replicas'>): { name: StoreJobName; id: string } | undefined {
  switch (row.status) {
    case 'provisioning':
      return { name: 'provision', id: `provision-${row.id}` };
    case 'updating':
      return { name: 'update', id: `update-${row.id}-r${row.revision}-x${row.replicas}` };
    case 'deleting':
      return { name: 'deprovision', id: `deprovision-${row.id}` };
    default:
      return undefined;
  }
}
