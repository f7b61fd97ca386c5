import type { StorePod, StoreTemplate } from '@flotilla/contracts';

// ---------------------------------------------------------------------------
// The objects a namespace holds, in the shape of their Kubernetes counterparts.
// ---------------------------------------------------------------------------

export interface ResourceQuotaObject {
  name: string;
  /** Kubernetes keys (`pods`, `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`, …) and quantities. */
  hard: Record<string, string>;
}

export interface LimitRangeObject {
  name: string;
  limits: Array<{
    type: 'Container';
    default: { cpu: string; memory: string };
    defaultRequest: { cpu: string; memory: string };
  }>;
}

export interface NetworkPolicyPeer {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
}

export interface NetworkPolicyPort {
  protocol: 'TCP' | 'UDP';
  port?: number;
}

export interface NetworkPolicyObject {
  name: string;
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress: Array<{ from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
  egress: Array<{ to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
}

/** Everything {@link SimulatedCluster.ensureNamespace} creates or updates in a namespace. */
export interface NamespaceObjects {
  labels: Record<string, string>;
  resourceQuota: ResourceQuotaObject;
  limitRange: LimitRangeObject;
  networkPolicies: NetworkPolicyObject[];
}

/** One deployment: the pods of one revision of a store. */
export interface DeploymentSpec {
  revision: number;
  version: string;
  template: StoreTemplate;
  replicas: number;
  /** Share of the store's traffic (percent); it also decides the share of the CPU load set with `setLoad`. */
  weight: number;
}

/** HPA-like scaling of every deployment of a namespace, each on its own. */
export interface AutoscalingSpec {
  min: number;
  max: number;
  targetCpuPercent: number;
}

export interface ClusterEvent {
  /** First occurrence (ISO time); repeated identical events are counted, as Kubernetes does. */
  at: string;
  lastAt: string;
  count: number;
  type: 'Normal' | 'Warning';
  reason: string;
  /** `kind/name`, like `pod/wordpress-r1-x7k2p`. */
  object: string;
  message: string;
}

export type ContainerState = 'ContainerCreating' | 'Running' | 'CrashLoopBackOff';

export interface PodSnapshot extends StorePod {
  namespace: string;
  version: string;
  template: StoreTemplate;
  containerState: ContainerState;
  livenessFailing: boolean;
  /** When a pod in CrashLoopBackOff restarts its container (ISO time), otherwise null. */
  nextRestartAt: string | null;
}

export interface DeploymentCondition {
  type: 'Available' | 'ReplicaFailure';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface DeploymentSnapshot {
  name: string;
  revision: number;
  version: string;
  template: StoreTemplate;
  weight: number;
  /** Replicas as applied. */
  specReplicas: number;
  /** Replicas wanted now: the applied count, or the autoscaler's while autoscaling is on. */
  replicas: number;
  currentReplicas: number;
  readyReplicas: number;
  /** Average CPU use of the running pods, percent of their request; null while none runs. */
  cpuPercent: number | null;
  conditions: DeploymentCondition[];
}

export interface NamespaceSnapshot {
  name: string;
  /** Unique per creation of the namespace, as Kubernetes' metadata.uid. */
  uid: string;
  phase: 'Active' | 'Terminating';
  labels: Record<string, string>;
  createdAt: string;
  resourceQuota: ResourceQuotaObject & { used: Record<string, string> };
  limitRange: LimitRangeObject;
  networkPolicies: NetworkPolicyObject[];
  autoscaling: AutoscalingSpec | null;
}
