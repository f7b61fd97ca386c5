import { Logger, type Provider } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { ENV } from '@flotilla/config';
import type { ProvisionerEnv } from '../provisioner.env.js';
import type { ClusterDriver } from './cluster-driver.js';
import { CLUSTER_DRIVER } from './driver.token.js';
import { resolveOwnership } from './ownership.js';
import type { Redis } from 'ioredis';
import { REDIS } from '@flotilla/messaging';
import { createSharedSimulatedDriver, parseAutoscale } from './simulated/shared-driver.js';

/** `auto` means the kubernetes driver when a kubeconfig is given or the process runs in a cluster. */
export function chooseDriver(env: Pick<ProvisionerEnv, 'CLUSTER_DRIVER' | 'KUBECONFIG'>, processEnv: NodeJS.ProcessEnv = process.env): 'simulated' | 'kubernetes' {
  if (env.CLUSTER_DRIVER !== 'auto') return env.CLUSTER_DRIVER;
  const kubeconfig = env.KUBECONFIG || processEnv.KUBECONFIG;
  if (kubeconfig && existsSync(kubeconfig)) return 'kubernetes';
  return processEnv.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'simulated';
}

/** The shared simulated cluster's id: SIMULATED_CLUSTER_ID, else the installation's key prefix (NAMESPACE), else `flotilla`. */
export function simulatedClusterId(env: Pick<ProvisionerEnv, 'SIMULATED_CLUSTER_ID' | 'NAMESPACE'>): string {
  return env.SIMULATED_CLUSTER_ID || env.NAMESPACE || 'flotilla';
}

/** A comma-separated list of versions. */
const versions = (list: string): string[] => list.split(',').map((v) => v.trim()).filter(Boolean);

/** The cluster the stores run on, closed with the application. */
export const clusterDriverProvider: Provider = {
  provide: CLUSTER_DRIVER,
  inject: [ENV, REDIS],
  useFactory: async (env: ProvisionerEnv, redis: Redis): Promise<ClusterDriver> => {
    const kind = chooseDriver(env);
    const logger = new Logger('ClusterDriver');
    if (kind === 'simulated') {
      const clusterId = simulatedClusterId(env);
      logger.log(`stores run on the simulated cluster ${clusterId} (no kubeconfig set), shared in Redis by every replica`);
      const options = {
        podStartMs: env.SIMULATED_POD_START_MS,
        podReadyMs: env.SIMULATED_POD_READY_MS,
        autoscaleStabilizationMs: env.SIMULATED_AUTOSCALE_STABILIZATION_MS,
        failingVersions: versions(env.SIMULATED_FAILING_VERSIONS),
        metrics: {
          badVersions: versions(env.SIMULATED_BAD_VERSIONS),
          errorVersions: versions(env.SIMULATED_METRICS_ERROR_VERSIONS),
          noDataVersions: versions(env.SIMULATED_NO_METRICS_VERSIONS),
        },
      };
      return createSharedSimulatedDriver(redis, clusterId, options, { ...resolveOwnership(env), autoscaling: parseAutoscale(env.SIMULATED_AUTOSCALE) });
    }
    const { createKubernetesDriver } = await import('./kubernetes/index.js');
    logger.log('stores run on Kubernetes, installed with Helm');
    return createKubernetesDriver(env);
  },
};
