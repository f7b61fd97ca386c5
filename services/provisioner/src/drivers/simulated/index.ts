export { SimulatedDriver, STORE_NAMESPACE_LABELS, type SimulatedStoreDescription } from './simulated-driver.js';
export {
  SimulatedCluster,
  type AutoscalingSpec,
  type ClusterEvent,
  type ContainerState,
  type DeploymentCondition,
  type DeploymentSnapshot,
  type DeploymentSpec,
  type LimitRangeObject,
  type NamespaceObjects,
  type NamespaceSnapshot,
  type NetworkPolicyObject,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type PodSnapshot,
  type ResourceQuotaObject,
} from './simulated-cluster.js';
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
