import type { NamespaceLimits } from '../drivers/cluster-driver.js';
import type { ProvisionerEnv } from '../provisioner.env.js';

/** The quota and default limits every store namespace gets, from the configuration. */
export function namespaceLimits(env: ProvisionerEnv): NamespaceLimits {
  return {
    pods: env.STORE_QUOTA_PODS,
    requestsCpu: env.STORE_QUOTA_REQUESTS_CPU,
    requestsMemory: env.STORE_QUOTA_REQUESTS_MEMORY,
    limitsCpu: env.STORE_QUOTA_LIMITS_CPU,
    limitsMemory: env.STORE_QUOTA_LIMITS_MEMORY,
    persistentVolumeClaims: 5,
    requestsStorage: env.STORE_QUOTA_STORAGE,
    defaultCpu: '500m',
    defaultMemory: '512Mi',
    defaultRequestCpu: '100m',
    defaultRequestMemory: '128Mi',
  };
}
