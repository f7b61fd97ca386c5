export { KubernetesDriver, type KubernetesDriverDeps, type KubernetesDriverOptions } from './kubernetes-driver.js';
export { createKubernetesDriver, type KubernetesDriverEnv } from './create-kubernetes-driver.js';
export {
  ExecHelmRunner,
  HelmCommandError,
  helmPath,
  isHelmWaitTimeout,
  isReleaseLocked,
  isReleaseNotFound,
  type ExecHelmRunnerOptions,
  type HelmResult,
  type HelmRunner,
  type HelmRunOptions,
} from './helm.js';
export { loadKubernetesApis, type KubernetesApis } from './kube-apis.js';
export { LIMIT_RANGE_NAME, MANAGED_BY, NAMESPACE_LABELS, RESOURCE_QUOTA_NAME, namespaceObjects, type NamespaceObjects } from './namespace-objects.js';
export { REVISION_LABEL, VERSION_ANNOTATION, WEIGHT_ANNOTATION, appSelector, toRevision, toStorePod } from './store-objects.js';
export {
  MAX_REVISION_REPLICAS,
  STORE_SECRET_KEYS,
  STORE_SECRET_PATTERN,
  STORE_VERSION_PATTERN,
  checkRelease,
  storeNamespace,
  storeValues,
} from './store-release.js';
