import type { ObservedStore, StoreRef } from '../cluster-driver.js';
import type { NoData, RevisionMeasurement, RevisionMetrics } from '../revision-metrics.js';

/** Which versions' pods report what; every other version's ready pods report healthy figures. */
export interface SimulatedMetricsOptions {
  /** Ready pods, but serving badly: errorRate 0.2, p95Ms 1500 — for watching analysis roll them back. */
  badVersions?: string[];
  /** Measuring these versions fails (as when Prometheus is away). */
  errorVersions?: string[];
  /** These versions' pods report no requests at all. */
  noDataVersions?: string[];
}

/** The store's traffic in the simulation: 100 requests a second, shared by weight. */
const STORE_REQUESTS_PER_SECOND = 100;
export const HEALTHY_FIGURES = { errorRate: 0.002, p95Ms: 180 };
export const BAD_FIGURES = { errorRate: 0.2, p95Ms: 1500 };

/**
 * The simulated pods' request figures: what a revision's ready pods served over the
 * window, by its version (see {@link SimulatedMetricsOptions}). A revision without ready
 * pods or without traffic has no data.
 */
export class SimulatedMetrics implements RevisionMetrics {
  constructor(
    private readonly observe: (store: StoreRef) => Promise<ObservedStore>,
    private readonly options: SimulatedMetricsOptions = {},
  ) {}

  describe(_store: StoreRef, revision: number, windowMs: number): string {
    return `the simulated pods of revision ${revision} over ${windowMs / 1000} s`;
  }

  async measure(store: StoreRef, revision: number, windowMs: number): Promise<RevisionMeasurement | NoData> {
    const observed = await this.observe(store);
    const spec = observed.revisions.find((r) => r.revision === revision);
    if (!spec) return { noData: true, why: `revision ${revision} is not deployed` };
    if (this.options.errorVersions?.includes(spec.version)) throw new Error(`the metrics of version ${spec.version} cannot be read (simulated)`);
    const ready = observed.pods.filter((p) => p.revision === revision && p.ready).length;
    if (ready === 0) return { noData: true, why: `revision ${revision} has no ready pods` };
    if (spec.weight === 0 || this.options.noDataVersions?.includes(spec.version)) return { noData: true, why: `no requests reached revision ${revision}` };
    const requests = Math.round((STORE_REQUESTS_PER_SECOND * spec.weight * windowMs) / 100_000);
    if (requests === 0) return { noData: true, why: `no requests reached revision ${revision}` };
    return { ...(this.options.badVersions?.includes(spec.version) ? BAD_FIGURES : HEALTHY_FIGURES), requests };
  }
}
