import type { StoreRef } from './cluster-driver.js';

/** One revision's requests over a window: the share that failed (0 to 1) and the 95th percentile latency. */
export interface RevisionMeasurement {
  errorRate: number;
  p95Ms: number;
  /** Requests seen in the window, when the source knows. */
  requests?: number;
}

/** Nothing to judge by: no requests reached the revision, or the source has no series for it. */
export interface NoData {
  noData: true;
  why: string;
}

/**
 * Where a canary analysis reads a revision's error rate and latency: the simulated pods,
 * or Prometheus over the store's ingress metrics. A source that cannot answer throws.
 */
export interface RevisionMetrics {
  /** What is measured, for the store's event log (the queries, or the simulated pods). */
  describe(store: StoreRef, revision: number, windowMs: number): string;
  measure(store: StoreRef, revision: number, windowMs: number, signal: AbortSignal): Promise<RevisionMeasurement | NoData>;
}
