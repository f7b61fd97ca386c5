export { SimulatedDriver, STORE_NAMESPACE_LABELS, type SimulatedStoreDescription } from './simulated-driver.js';
export { SimulatedCluster } from './simulated-cluster.js';
export type {
  AutoscalingSpec,
  ClusterEvent,
  ContainerState,
  DeploymentCondition,
  DeploymentSnapshot,
  DeploymentSpec,
  LimitRangeObject,
  NamespaceObjects,
  NamespaceSnapshot,
  NetworkPolicyObject,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PodSnapshot,
  ResourceQuotaObject,
} from './cluster-shapes.js';
export {
  DEFAULT_DATABASE_RESOURCES,
  DEFAULT_POD_RESOURCES,
  DEFAULT_SIMULATED_DRIVER_OPTIONS,
  resolveSimulatedOptions,
  type PodResources,
  type ResolvedSimulatedOptions,
  type SimulatedDriverOptions,
} from './simulated-options.js';
export { ManualScheduler, realScheduler, type SimulationScheduler } from './scheduler.js';
export { seededRandom } from './random.js';
export { formatCpu, formatMemory, parseCpu, parseMemory } from './quantity.js';
export { SharedSimulatedCluster, type SharedClusterSettings } from './shared-cluster.js';
export { createSharedSimulatedDriver, parseAutoscale, sharedClusterKey } from './shared-driver.js';
export { emptyClusterState, type ClusterState } from './cluster-state.js';
