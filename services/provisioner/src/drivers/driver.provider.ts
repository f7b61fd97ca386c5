import { Logger, type Provider } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { ENV } from '@flotilla/config';
import type { ProvisionerEnv } from '../provisioner.env.js';
import type { ClusterDriver } from './cluster-driver.js';
import { CLUSTER_DRIVER } from './driver.token.js';
import { resolveOwnership } from './ownership.js';
import { SimulatedDriver } from './simulated/index.js';

/** `auto` means the kubernetes driver when a kubeconfig is given or the process runs in a cluster. */
export function chooseDriver(env: Pick<ProvisionerEnv, 'CLUSTER_DRIVER' | 'KUBECONFIG'>, processEnv: NodeJS.ProcessEnv = process.env): 'simulated' | 'kubernetes' {
  if (env.CLUSTER_DRIVER !== 'auto') return env.CLUSTER_DRIVER;
  const kubeconfig = env.KUBECONFIG || processEnv.KUBECONFIG;
  if (kubeconfig && existsSync(kubeconfig)) return 'kubernetes';
  return processEnv.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'simulated';
}

/** The cluster the stores run on, closed with the application. */
export const clusterDriverProvider: Provider = {
  provide: CLUSTER_DRIVER,
  inject: [ENV],
  useFactory: async (env: ProvisionerEnv): Promise<ClusterDriver> => {
    const kind = chooseDriver(env);
    const logger = new Logger('ClusterDriver');
    if (kind === 'simulated') {
      logger.log('stores run on the simulated cluster (no kubeconfig set); its state lives in this process');
      return new SimulatedDriver({
        podStartMs: env.SIMULATED_POD_START_MS,
        podReadyMs: env.SIMULATED_POD_READY_MS,
        failingVersions: env.SIMULATED_FAILING_VERSIONS.split(',').map((v) => v.trim()).filter(Boolean),
      }, resolveOwnership(env));
    }
    const { createKubernetesDriver } = await import('./kubernetes/index.js');
    logger.log('stores run on Kubernetes, installed with Helm');
    return createKubernetesDriver(env);
  },
};
