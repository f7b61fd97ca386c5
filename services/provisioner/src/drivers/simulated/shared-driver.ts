import type { Redis } from 'ioredis';
import { Logger } from '@nestjs/common';
import type { AutoscalingSpec } from './cluster-shapes.js';
import { SharedSimulatedCluster } from './shared-cluster.js';
import { SimulatedDriver } from './simulated-driver.js';
import { resolveSimulatedOptions, type SimulatedDriverOptions } from './simulated-options.js';
import type { Ownership } from '../ownership.js';

/** `1-5@50` → min 1, max 5, target 50 % of the CPU request; empty → none. */
export function parseAutoscale(value: string): AutoscalingSpec | null {
  const match = /^(\d+)-(\d+)@(\d+)$/.exec(value.trim());
  if (!match) return null;
  const [min, max, targetCpuPercent] = match.slice(1).map(Number) as [number, number, number];
  if (min < 1 || max < min || targetCpuPercent <= 0) throw new RangeError(`autoscale ${value}: needs 1 <= min <= max and a target above 0`);
  return { min, max, targetCpuPercent };
}

/** The Redis key of the shared simulated cluster `clusterId`. */
export function sharedClusterKey(clusterId: string): string {
  return `${clusterId}:simulated-cluster`;
}

/**
 * A simulated driver on the shared cluster `clusterId` in Redis, its clock loop started.
 * Closing the driver stops this process's part (its clock loop, its lease); the cluster
 * and its stores live on for the other replicas and the next start.
 */
export async function createSharedSimulatedDriver(
  redis: Redis,
  clusterId: string,
  options: Partial<SimulatedDriverOptions>,
  ownership: Partial<Ownership> & { autoscaling?: AutoscalingSpec | null },
): Promise<SimulatedDriver> {
  const logger = new Logger('SimulatedCluster');
  const shared = new SharedSimulatedCluster(redis, resolveSimulatedOptions(options), {
    key: sharedClusterKey(clusterId),
    onError: (error) => logger.warn(`the clock of the shared simulated cluster ${clusterId} could not move: ${String(error)}`),
  });
  await shared.open();
  return new SharedClusterDriver(shared, options, ownership);
}

/** A simulated driver that closes its process's part of the shared cluster with it. */
class SharedClusterDriver extends SimulatedDriver {
  constructor(
    private readonly sharedCluster: SharedSimulatedCluster,
    options: Partial<SimulatedDriverOptions>,
    ownership: Partial<Ownership> & { autoscaling?: AutoscalingSpec | null },
  ) {
    super(options, { ...ownership, shared: sharedCluster });
  }

  override async close(): Promise<void> {
    await this.sharedCluster.close();
  }
}
