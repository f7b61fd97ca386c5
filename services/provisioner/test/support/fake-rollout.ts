import { PermanentDriverError, type ClusterDriver, type RevisionSpec } from '../../src/drivers/cluster-driver.js';
import type { RevisionMetrics } from '../../src/drivers/revision-metrics.js';
import type { RolloutCommand, RolloutControl } from '../../src/operations/rollout-control.js';
import type { RolloutContext } from '../../src/operations/rollout.js';

export interface FakeClusterOptions {
  /** Pods the namespace quota holds: a bigger release is refused for good, as quota admission would. */
  maxPods?: number;
  /** How long an apply takes (as `helm upgrade --wait` does). */
  applyMs?: number;
  /** A revision whose pods never get ready. */
  never?: number;
  /** Pods are ready once observed this many times since their apply (0: at once). */
  readyAfter?: number;
  /** The revision metrics the driver offers, for analysis. */
  metrics?: RevisionMetrics;
}

/** A cluster for rollout tests: it keeps each release applied (in `applied`) and shows its pods. */
export function fakeCluster(options: FakeClusterOptions = {}): { driver: ClusterDriver; applied: RevisionSpec[][]; counts: { observe: number } } {
  const applied: RevisionSpec[][] = [];
  const counts = { observe: 0 };
  let running: RevisionSpec[] = [];
  let observedSinceApply = 0;
  const driver = {
    ...(options.metrics ? { metrics: options.metrics } : {}),
    apply: async (_store: unknown, _template: unknown, release: { revisions: RevisionSpec[] }) => {
      const pods = release.revisions.reduce((sum, r) => sum + r.replicas, 0);
      if (options.maxPods !== undefined && pods > options.maxPods) {
        throw new PermanentDriverError(`pods "shop-r2-x" is forbidden: exceeded quota: store-quota (${pods} pods, ${options.maxPods} allowed)`);
      }
      if (options.applyMs) await new Promise((resolve) => setTimeout(resolve, options.applyMs));
      applied.push(release.revisions);
      running = release.revisions;
      observedSinceApply = 0;
    },
    observe: async () => {
      counts.observe++;
      observedSinceApply++;
      return {
        namespaceExists: true,
        revisions: running,
        pods: running.flatMap((r) =>
          Array.from({ length: r.replicas }, (_, i) => ({
            name: `p${r.revision}-${i}`,
            phase: 'Running',
            ready: r.revision !== options.never && observedSinceApply > (options.readyAfter ?? 0),
            restarts: 0,
            revision: r.revision,
          })),
        ),
      };
    },
  } as unknown as ClusterDriver;
  return { driver, applied, counts };
}

/** A rollout control a test steers, recording what the rollout reported. */
export class TestControl implements RolloutControl {
  paused = false;
  command: RolloutCommand | null = null;
  readonly reports: Parameters<RolloutControl['report']>[0][] = [];
  read = async () => ({ paused: this.paused, command: this.command });
  take = async (command: RolloutCommand) => {
    if (this.command === command) this.command = null;
  };
  report = async (state: Parameters<RolloutControl['report']>[0]) => void this.reports.push(state);
  pause = async () => void (this.paused = true);
  /** Resolves once the rollout reported a state matching `check`. */
  async reached(check: (s: Parameters<RolloutControl['report']>[0]) => boolean): Promise<void> {
    while (!this.reports.some(check)) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A rollout context over `driver`, its event log collected in `log` as `type: message`. */
export function rolloutContext(driver: ClusterDriver, extra: Partial<RolloutContext> = {}): { ctx: RolloutContext; log: string[] } {
  const log: string[] = [];
  const ctx: RolloutContext = {
    driver,
    store: { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' },
    release: { host: 'shop.test', secrets: {} },
    log: async (type, message) => void log.push(`${type}: ${message}`),
    signal: new AbortController().signal,
    deadlineMs: 1000,
    pauseMs: 0,
    pollMs: 5,
    ...extra,
  };
  return { ctx, log };
}
