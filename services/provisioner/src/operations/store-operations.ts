import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { ENV } from '@flotilla/config';
import { StoreEventTypes, type RolloutSpec } from '@flotilla/contracts';
import { MetricsService } from '@flotilla/observability';
import { PermanentDriverError, type AppSettings, type ClusterDriver, type NamespaceLimits, type RevisionSpec, type StoreRef } from '../drivers/cluster-driver.js';
import { CLUSTER_DRIVER } from '../drivers/driver.token.js';
import { storeUrl } from '../drivers/kubernetes/store-url.js';
import { resolveOwnership } from '../drivers/ownership.js';
import type { ProvisionerEnv } from '../provisioner.env.js';
import { StoreHealthRepository, type StoreHealthColumns } from '../stores/store-health-repository.js';
import { StoreSecrets } from '../stores/store-secrets.js';
import { namespaceOf, StoreRepository, type StoreRow } from '../stores/store-repository.js';
import { sweepOrphans } from './orphan-sweep.js';
import { namespaceLimits } from './namespace-limits.js';
import { rollOut, type RolloutContext } from './rollout.js';
import { clearRolloutControl, storeRolloutControl } from './rollout-control.js';
import { StoreLock } from './store-lock.js';
import { blockingReason, failuresInARow, nextHealth } from './store-health.js';


/**
 * What the provisioner's jobs do to a store: provision, update (a rollout), deprovision,
 * and reconcile. Each runs under the store's lock, reads the store afresh and does
 * nothing when the store has moved on, so a job that runs twice is harmless.
 */
@Injectable()
export class StoreOperations {
  private readonly logger = new Logger(StoreOperations.name);
  private readonly duration: Histogram<'template' | 'outcome'>;
  private readonly repairs: Counter<'kind'>;
  private readonly reconcileRuns: Counter;
  readonly secrets: StoreSecrets;
  /** This installation's id (label of its namespaces) and the prefix of new store namespaces. */
  readonly ownership: { installationId: string; namespacePrefix: string };
  /** The clock the orphan sweep judges a namespace's age by. */
  now: () => number = Date.now;

  constructor(
    private readonly repo: StoreRepository,
    private readonly lock: StoreLock,
    @Inject(CLUSTER_DRIVER) private readonly driver: ClusterDriver,
    @Inject(ENV) private readonly env: ProvisionerEnv,
    metrics: MetricsService,
    private readonly health: StoreHealthRepository,
  ) {
    this.secrets = new StoreSecrets(env.STORE_SECRETS_KEY);
    this.ownership = resolveOwnership(env);
    this.duration = metrics.histogram({
      name: 'store_provisioning_duration_seconds',
      help: 'From a store being requested to ready (or failed), by template and outcome',
      labelNames: ['template', 'outcome'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200],
    });
    this.repairs = metrics.counter({ name: 'reconcile_repairs_total', help: 'Drift repaired by the reconcile loop, by kind', labelNames: ['kind'] });
    this.reconcileRuns = metrics.counter({ name: 'reconcile_runs_total', help: 'Passes of the reconcile loop over every store' });
    const stores = this.repo;
    metrics.gauge({
      name: 'stores',
      help: 'Stores by status',
      labelNames: ['status'],
      async collect() {
        const counts = await stores.countByStatus().catch(() => undefined);
        if (!counts) return;
        this.reset();
        for (const status of ['provisioning', 'ready', 'updating', 'degraded', 'failed', 'deleting']) this.set({ status }, counts[status] ?? 0);
      },
    });
  }

  async provision(storeId: string): Promise<void> {
    const found = await this.repo.find(storeId);
    if (found?.status !== 'provisioning') return;
    await this.lock.withLock(storeId, async (signal) => {
      const row = await this.repo.find(storeId);
      if (row?.status !== 'provisioning') return;
      const ref = this.ref(row);
      try {
        await this.repo.log(row.id, 'provisioning', `namespace ${ref.namespace} with its quota, limits and network policies`);
        await this.driver.ensureNamespace(ref, this.limits());
        await this.repo.log(row.id, 'provisioning', `installing ${row.template} ${row.version} with ${row.replicas} replica(s), revision ${row.revision}`);
        await this.repo.setRevisionStatus(row.id, row.revision, 'rolling');
        const outcome = await rollOut(this.context(row, signal), undefined, target(row), row.rollout);
        if (outcome.outcome === 'ready') await this.becameReady(row, outcome.readyReplicas, `store ready at ${this.url(row)} (revision ${row.revision})`);
        else await this.fail(row, outcome.reason);
      } catch (error) {
        if (error instanceof PermanentDriverError) return this.fail(row, error.message);
        throw error;
      }
    });
  }

  async update(storeId: string): Promise<void> {
    const found = await this.repo.find(storeId);
    if (found?.status !== 'updating') return;
    await this.lock.withLock(storeId, async (signal) => {
      const row = await this.repo.find(storeId);
      if (row?.status !== 'updating') return;
      const stable = row.stable_revision !== null ? await this.repo.revision(row.id, row.stable_revision) : undefined;
      try {
        await this.driver.ensureNamespace(this.ref(row), this.limits());
        await this.repo.setRevisionStatus(row.id, row.revision, 'rolling');
        const from = stable ? { revision: stable.revision, version: stable.version, replicas: stable.replicas } : undefined;
        const outcome = await rollOut(this.context(row, signal), from, target(row), row.rollout);
        await clearRolloutControl(this.repo.dataSource, row.id);
        if (outcome.outcome === 'ready') {
          await this.becameReady(row, outcome.readyReplicas, `revision ${row.revision} (${row.version}, ${row.replicas} replica(s)) ready`);
        } else if (outcome.outcome === 'aborted') {
          // Degraded until a new version is set: the version asked for is not the one serving.
          await this.repo.setRevisionStatus(row.id, row.revision, 'rolled_back');
          await this.repo.transition(
            row.id,
            { set: { status: 'degraded', error: outcome.reason, observed_revision: stable?.revision ?? null }, whenStatus: ['updating'] },
            { type: 'degraded', message: `degraded: ${outcome.reason}`, publish: StoreEventTypes.Degraded },
          );
        } else if (outcome.outcome === 'rolled_back') {
          if (row.revision !== stable?.revision) await this.repo.setRevisionStatus(row.id, row.revision, 'rolled_back');
          await this.repo.transition(
            row.id,
            { set: { status: 'degraded', error: outcome.reason, observed_revision: stable?.revision ?? null }, whenStatus: ['updating'] },
            // store.rollback too, in the same transaction: what admins' notifications follow.
            { type: 'degraded', message: `degraded: ${outcome.reason}; serving revision ${stable?.revision}`, publish: [StoreEventTypes.Degraded, StoreEventTypes.Rollback] },
          );
        } else {
          await this.fail(row, outcome.reason);
        }
      } catch (error) {
        if (error instanceof PermanentDriverError) return this.fail(row, error.message);
        throw error;
      }
    });
  }

  async deprovision(storeId: string): Promise<void> {
    const found = await this.repo.find(storeId);
    if (found?.status !== 'deleting') return;
    await this.lock.withLock(storeId, async () => {
      const row = await this.repo.find(storeId);
      if (row?.status !== 'deleting') return;
      await this.repo.log(row.id, 'deleting', `uninstalling the release and removing namespace ${namespaceOf(row)}`);
      await this.driver.remove(this.ref(row));
      await this.repo.remove(row);
      this.logger.log(`store ${row.name} deleted`);
    });
  }

  /**
   * One pass over every store: a ready or degraded store whose namespace or release
   * drifted from what it should run is repaired; its observed readiness is recorded;
   * namespaces of this installation whose store no longer exists are removed once older
   * than the grace ({@link sweepOrphans}). Stores busy with another
   * operation are skipped until the next pass. `requeue` re-enqueues the jobs of stores
   * whose operation was lost (a provisioner that died mid-way).
   */
  async reconcile(requeue: (row: StoreRow) => Promise<void>): Promise<void> {
    this.reconcileRuns.inc();
    const rows = await this.repo.all();
    for (const row of rows) {
      try {
        if (row.status === 'provisioning' || row.status === 'updating' || row.status === 'deleting') await requeue(row);
        else if (row.status === 'ready' || row.status === 'degraded') await this.repair(row);
      } catch (error) {
        this.logger.warn(`reconcile of store ${row.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await sweepOrphans({
      driver: this.driver,
      repo: this.repo,
      lock: this.lock,
      installationId: this.ownership.installationId,
      minAgeMs: Math.max(this.env.RECONCILE_INTERVAL_MS, this.env.ORPHAN_NAMESPACE_GRACE_MS),
      now: this.now,
      logger: this.logger,
      removed: () => this.repairs.inc({ kind: 'orphan_namespace' }),
    });
  }

  private async repair(row: StoreRow): Promise<void> {
    if (row.stable_revision === null) return;
    const stable = await this.repo.revision(row.id, row.stable_revision);
    if (!stable) return;
    await this.lock
      .withLock(row.id, async () => {
        const current = await this.repo.find(row.id);
        if (!current || (current.status !== 'ready' && current.status !== 'degraded')) return;
        const ref = this.ref(current);
        const want: RevisionSpec = { revision: stable.revision, version: stable.version, replicas: stable.replicas, weight: 100 };
        let observed = await this.driver.observe(ref);
        let repaired: string | undefined;
        if (!observed.namespaceExists) {
          await this.driver.ensureNamespace(ref, this.limits());
          await this.driver.apply(ref, current.template, { ...this.releaseBase(current), revisions: [want] });
          repaired = `namespace ${ref.namespace} was missing: recreated, revision ${want.revision} reinstalled`;
          this.repairs.inc({ kind: 'namespace' });
        } else if (!sameRelease(observed.revisions, [want])) {
          await this.driver.apply(ref, current.template, { ...this.releaseBase(current), revisions: [want] });
          repaired = `release drifted from revision ${want.revision} with ${want.replicas} replica(s): reapplied`;
          this.repairs.inc({ kind: 'release' });
        }
        if (repaired) {
          await this.repo.log(current.id, 'repair', repaired);
          observed = await this.driver.observe(ref);
        }
        const ready = observed.pods.filter((p) => p.revision === want.revision && p.ready).length;
        await this.repo.observed(current.id, ready, want.revision);
        await this.checkHealth(current, blockingReason({ pods: observed.pods, revision: want.revision, problems: observed.problems }));
      }, 10_000)
      .catch((error: unknown) => {
        if (error instanceof Error && error.name === 'StoreBusyError') return;
        throw error;
      });
  }

  /**
   * Health of a ready or degraded store, from what the cluster reports: `down` on the
   * second failing check in a row (two reconcile periods of grace for a pod that is
   * restarting), `up` on the first good one. Down makes a `ready` store `degraded`, up makes
   * a store degraded by health `ready` again (StoreHealthRepository). Stores being
   * provisioned, updated or deleted are not checked: their health stays as it was.
   */
  private async checkHealth(row: StoreRow & Partial<StoreHealthColumns>, reason: string | undefined): Promise<void> {
    const failures = failuresInARow(row.health_failures ?? 0, row.health_checked_at ?? null, Date.now(), this.env.RECONCILE_INTERVAL_MS);
    const next = nextHealth({ state: row.health ?? 'unknown', failures }, reason);
    if (next.changed && next.state !== 'unknown') {
      await this.health.transition(row, next.state, next.failures, reason);
      if (next.state === 'down') this.logger.warn(`store ${row.name} is down: ${reason ?? ''}`);
    } else {
      await this.health.checked(row.id, next.failures, reason);
    }
  }

  private async becameReady(row: StoreRow, readyReplicas: number, message: string): Promise<void> {
    await this.repo.setRevisionStatus(row.id, row.revision, 'ready');
    await this.repo.setRevisionReplicas(row.id, row.revision, row.replicas);
    const ready = await this.repo.transition(
      row.id,
      {
        set: { status: 'ready', error: null, stable_revision: row.revision, observed_ready: readyReplicas, observed_revision: row.revision, ready_at: row.ready_at ?? new Date() },
        whenStatus: [row.status],
      },
      { type: 'ready', message, publish: StoreEventTypes.Ready },
    );
    if (ready && row.status === 'provisioning') this.duration.observe({ template: row.template, outcome: 'ready' }, (Date.now() - row.created_at.getTime()) / 1000);
  }

  private async fail(row: StoreRow, reason: string): Promise<void> {
    await this.repo.setRevisionStatus(row.id, row.revision, 'failed');
    const failed = await this.repo.transition(
      row.id,
      { set: { status: 'failed', error: reason }, whenStatus: [row.status] },
      { type: 'failed', message: `failed: ${reason}`, publish: StoreEventTypes.Failed },
    );
    if (failed && row.status === 'provisioning') this.duration.observe({ template: row.template, outcome: 'failed' }, (Date.now() - row.created_at.getTime()) / 1000);
  }

  ref(row: StoreRow): StoreRef {
    return { storeId: row.id, name: row.name, namespace: namespaceOf(row), teamId: row.team_id, template: row.template };
  }

  url(row: StoreRow): string {
    return storeUrl(row, this.env);
  }

  private releaseBase(row: StoreRow): { host: string; secrets: Record<string, string>; app: AppSettings } {
    const app: AppSettings = { env: row.env ?? [], ...(row.probes ?? {}) };
    return { host: `${row.name}.${this.env.BASE_DOMAIN}`, secrets: this.secrets.open(row.secrets), app };
  }

  private context(row: StoreRow, signal: AbortSignal): RolloutContext {
    return {
      driver: this.driver,
      store: this.ref(row),
      release: this.releaseBase(row),
      log: (type, message) => this.repo.log(row.id, type, message),
      signal,
      deadlineMs: this.env.ROLLOUT_DEADLINE_SECONDS * 1000,
      pauseMs: this.env.CANARY_PAUSE_MS,
      scaleDownDelayMs: this.env.BLUE_GREEN_SCALE_DOWN_DELAY_SECONDS * 1000,
      control: storeRolloutControl(this.repo.dataSource, row.id),
    };
  }

  limits(): NamespaceLimits {
    return namespaceLimits(this.env);
  }
}

function target(row: StoreRow): { revision: number; version: string; replicas: number } {
  return { revision: row.revision, version: row.version, replicas: row.replicas };
}

function sameRelease(a: RevisionSpec[], b: RevisionSpec[]): boolean {
  const key = (r: RevisionSpec): string => `${r.revision}/${r.version}/${r.replicas}/${r.weight}`;
  return a.map(key).sort().join(',') === b.map(key).sort().join(',');
}

export type { RolloutSpec };
