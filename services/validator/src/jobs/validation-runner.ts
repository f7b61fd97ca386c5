import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Histogram } from 'prom-client';
import { ENV } from '@flotilla/config';
import { ValidationEvents, type DatasetUploadedData, type ValidationProgressData } from '@flotilla/contracts';
import { EventPublisher, isDependencyUnavailable, NonRetryableEventError, RETRY_TIERS, retryDelay } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { ObjectStorage } from '@flotilla/storage';
import type { ValidatorEnv } from '../validator.env.js';
import { JobStore, type JobRow } from './job-store.js';
import { JobCancelled, validateJob, type JobValidationSettings } from './job-validation.js';

export { reportKey } from './job-validation.js';

/**
 * Runs validation jobs: streams each object once, applies the profile, stores the
 * report in S3 and records the verdict. A failure (S3 or Postgres away) is thrown so
 * the event is retried after a delay; the last allowed attempt ends the job `error`
 * and dead-letters the event, from where an operator can replay it. While Postgres is
 * away no job can be claimed, and the event's retries are not counted (EventConsumer).
 */
@Injectable()
export class ValidationRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private sweeper?: NodeJS.Timeout;
  private readonly logger = new Logger(ValidationRunner.name);
  private readonly duration: Histogram<'status'>;
  /** Jobs this instance runs, by dataset: how to stop each, and when it settles. */
  private readonly running = new Map<string, { abort: AbortController; settled: Promise<void> }>();
  private readonly settings: JobValidationSettings;

  constructor(
    private readonly jobs: JobStore,
    private readonly storage: ObjectStorage,
    @Inject(ENV) private readonly env: ValidatorEnv,
    metrics: MetricsService,
    private readonly events: EventPublisher,
  ) {
    this.duration = metrics.histogram({
      name: 'validation_duration_seconds',
      help: 'Validation jobs from start to verdict, by final status',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    });
    this.settings = {
      fileConcurrency: env.VALIDATION_FILE_CONCURRENCY,
      progressIntervalMs: env.VALIDATION_PROGRESS_INTERVAL_MS,
      caps: { perCode: env.VALIDATION_MAX_ISSUES_PER_CODE, perJob: env.VALIDATION_MAX_ISSUES, messageLength: env.VALIDATION_MAX_MESSAGE_LENGTH },
      documentBudgetBytes: env.VALIDATION_JOB_DOCUMENT_BYTES,
      profileOptions: { labels: env.XRAY_LABELS.split(',').map((l) => l.trim()), minImageSize: env.XRAY_MIN_IMAGE_SIZE },
    };
  }

  /**
   * Every few seconds, jobs nobody holds any more end `error` (see {@link JobStore.expireAbandoned}).
   * Not in the first `grace` after start or after Postgres was away: events that waited
   * (a redelivery, or a retry held back by the outage) come back within a retry delay and
   * take up their jobs, whose leases lapsed meanwhile.
   */
  onApplicationBootstrap(): void {
    const grace = Math.max(10_000, this.env.VALIDATION_LEASE_MS, 2 * retryDelay(this.env.VALIDATION_RETRY_DELAY_MS, RETRY_TIERS));
    let reachableSince: number | undefined = Date.now();
    this.sweeper = setInterval(() => {
      const now = Date.now();
      const settled = reachableSince !== undefined && now - reachableSince >= grace;
      (settled ? this.jobs.expireAbandoned(grace) : this.jobs.ping().then(() => 0)).then(
        (n) => {
          reachableSince ??= now;
          if (n > 0) this.logger.warn(`${n} abandoned validation job(s) ended in error`);
        },
        () => (reachableSince = undefined), // Postgres away: the next sweep tries again
      );
    }, 5000);
    this.sweeper.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Handles one `dataset.uploaded`; resolves once the verdict is committed (or there is nothing to do). */
  async run(data: DatasetUploadedData): Promise<void> {
    // The same event twice at once (a redelivery, or the outbox publishing again): the run in
    // progress answers for both, so the duplicate is acked only once that run settled (should
    // this process die meanwhile, both come back).
    const inProgress = this.running.get(data.datasetId);
    if (inProgress) return inProgress.settled;
    const job = await this.claim(data);
    if (!job) return;
    const started = performance.now();
    const abort = new AbortController();
    let settle!: () => void;
    this.running.set(job.dataset_id, { abort, settled: new Promise<void>((resolve) => (settle = resolve)) });
    // The lease is renewed while the job runs, whatever the pace of its bytes.
    let renewing: Promise<unknown> | undefined;
    const renewal = setInterval(() => {
      renewing = this.jobs.renewLease(job.id, this.env.VALIDATION_LEASE_MS).then(
        (held) => held || abort.abort(),
        (error: unknown) => this.logger.warn(`lease of job ${job.id} not renewed: ${String(error)}`),
      );
    }, Math.max(250, Math.floor(this.env.VALIDATION_LEASE_MS / 3)));
    // A renewal landing after a failed attempt gave its lease up would hold the retry back for a whole lease.
    const stopRenewal = async (): Promise<void> => {
      clearInterval(renewal);
      // Not for long, though: with Postgres away the failure is recorded (or not) all the same.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([renewing, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    };
    try {
      const onProgress = (filesChecked: number, bytesChecked: number): void => this.announceProgress(job, filesChecked, bytesChecked);
      const outcome = await validateJob(job, abort.signal, { storage: this.storage, jobs: this.jobs, settings: this.settings, onProgress });
      if (await this.jobs.finish(job, outcome)) {
        this.duration.observe({ status: outcome.status }, (performance.now() - started) / 1000);
        this.logger.log(`dataset ${job.dataset_id} job ${job.id}: ${outcome.status} (${outcome.summary.errors} error(s), ${outcome.summary.warnings} warning(s))`);
      }
    } catch (error) {
      if (error instanceof JobCancelled || abort.signal.aborted) {
        this.logger.log(`job ${job.id} stopped: dataset ${job.dataset_id} was deleted`);
        return;
      }
      await stopRenewal();
      await this.onFailure(job, error, started);
    } finally {
      clearInterval(renewal);
      this.running.delete(job.dataset_id);
      settle();
    }
  }

  /**
   * `validation.progress` for the gateways' event streams: published directly, not through the
   * outbox (a lost one costs nothing, the next one or the verdict says more), transient, and
   * expiring unread after one progress interval's worth of seconds.
   */
  private announceProgress(job: JobRow, filesChecked: number, bytesChecked: number): void {
    const data: ValidationProgressData = { datasetId: job.dataset_id, jobId: job.id, filesChecked, bytesChecked };
    const expirationMs = Math.max(5_000, 2 * this.env.VALIDATION_PROGRESS_INTERVAL_MS);
    this.events.publish(ValidationEvents.Progress, data, { persistent: false, expirationMs }).catch((error: unknown) => {
      this.logger.debug(`progress of job ${job.id} not announced: ${String(error)}`);
    });
  }

  /**
   * Records and claims the job; while another instance holds its lease, waits for that
   * run to finish or for the lease to lapse (its instance died). `undefined`: nothing to
   * do (finished already, or its dataset was deleted).
   */
  private async claim(data: DatasetUploadedData): Promise<JobRow | undefined> {
    for (let record = true; ; record = false) {
      const claim = await this.jobs.claim(data, this.env.VALIDATION_LEASE_MS, { record, maxAttempts: this.env.VALIDATION_MAX_ATTEMPTS });
      if (claim.kind === 'claimed') return claim.job;
      if (claim.kind === 'exhausted') {
        // The event goes to the dead letters, from where a replay starts the job again at its first attempt.
        this.logger.error(`job ${data.jobId} of dataset ${data.datasetId} ends in error: ${claim.reason}`);
        throw new NonRetryableEventError(`validation job ${data.jobId}: ${claim.reason}`);
      }
      if (claim.kind === 'finished' || claim.kind === 'gone') return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, claim.forMs + 50)));
    }
  }

  /** Stops the running job of a deleted dataset, if this instance runs it. */
  cancel(datasetId: string): void {
    this.running.get(datasetId)?.abort.abort();
  }

  private async onFailure(job: JobRow, error: unknown, started: number): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (isDependencyUnavailable(error)) {
      // S3 or Postgres away: no fault of the job's, so the attempt is given back and the
      // event's retries (which EventConsumer does not count for an outage) wait it out.
      await this.jobs.recordOutage(job.id, reason, retryDelay(this.env.VALIDATION_RETRY_DELAY_MS, 1)).catch(() => undefined);
      this.logger.warn(`job ${job.id} waits for a dependency to return, no attempt used: ${reason}`);
      throw error;
    }
    if (job.attempts < this.env.VALIDATION_MAX_ATTEMPTS) {
      // The event's retry after this attempt waits 1, 2, 4 or 8 retry delays (EventConsumer).
      await this.jobs.recordFailure(job.id, reason, retryDelay(this.env.VALIDATION_RETRY_DELAY_MS, job.attempts)).catch(() => undefined);
      this.logger.warn(`job ${job.id} attempt ${job.attempts} of ${this.env.VALIDATION_MAX_ATTEMPTS} failed, will retry: ${reason}`);
      throw error;
    }
    const ended = await this.jobs.finish(job, { status: 'error', issues: [], files: [], reportKey: null, error: reason }).catch(() => false);
    if (ended) this.duration.observe({ status: 'error' }, (performance.now() - started) / 1000);
    this.logger.error(`job ${job.id} failed ${job.attempts} time(s); it ends in error and its event is dead-lettered: ${reason}`);
    throw new NonRetryableEventError(`validation job ${job.id} failed ${job.attempts} time(s): ${reason}`);
  }
}
