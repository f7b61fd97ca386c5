import { usedQuantities } from './quota.js';
import { podReason } from './scheduling-holds.js';
import { deploymentName, type ClusterCore } from './cluster-core.js';
import { utilisation } from './controller.js';
import type { ClusterEvent, DeploymentCondition, DeploymentSnapshot, NamespaceSnapshot, PodSnapshot } from './cluster-shapes.js';

// ---------------------------------------------------------------------------
// What the cluster shows of its objects: copies, in the shapes of their Kubernetes counterparts.
// ---------------------------------------------------------------------------

export function namespaceSnapshot(core: ClusterCore, name: string): NamespaceSnapshot | undefined {
  const ns = core.namespace(name);
  if (!ns) return undefined;
  return {
    name: ns.name,
    uid: ns.uid,
    phase: ns.phase,
    labels: { ...ns.objects.labels },
    createdAt: new Date(ns.createdAt).toISOString(),
    resourceQuota: { ...structuredClone(ns.objects.resourceQuota), used: usedQuantities(ns.objects.resourceQuota, core.usage(ns)) },
    limitRange: structuredClone(ns.objects.limitRange),
    networkPolicies: structuredClone(ns.objects.networkPolicies),
    autoscaling: ns.autoscaling && { ...ns.autoscaling },
  };
}

export function deploymentSnapshots(core: ClusterCore, namespace: string): DeploymentSnapshot[] {
  const ns = core.namespace(namespace);
  if (!ns) return [];
  return [...ns.deployments]
    .sort((a, b) => a.spec.revision - b.spec.revision)
    .map((deployment) => {
      const pods = core.podsOf(ns, deployment.spec.revision);
      const readyReplicas = pods.filter((pod) => pod.ready).length;
      const conditions: DeploymentCondition[] = [
        readyReplicas >= deployment.replicas
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      ];
      if (deployment.replicaFailure) {
        conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: deployment.replicaFailure });
      }
      const cpu = utilisation(core, ns, deployment);
      return {
        name: deploymentName(deployment.spec),
        ...deployment.spec,
        specReplicas: deployment.spec.replicas,
        replicas: deployment.replicas,
        currentReplicas: pods.length,
        readyReplicas,
        cpuPercent: cpu === null ? null : Math.round(cpu),
        conditions,
      };
    });
}

/** Pods of the namespace, by revision then age (empty when it does not exist). */
export function podSnapshots(core: ClusterCore, namespace: string): PodSnapshot[] {
  const ns = core.namespace(namespace);
  if (!ns) return [];
  const held = Object.hasOwn(core.state.holds, namespace) ? `Unschedulable: ${core.state.holds[namespace]}` : undefined;
  return Object.values(ns.pods)
    .sort((a, b) => a.revision - b.revision || a.createdAt - b.createdAt || a.name.localeCompare(b.name))
    .map((pod) => ({
      name: pod.name,
      namespace,
      phase: pod.phase,
      ready: pod.ready,
      restarts: pod.restarts,
      revision: pod.revision,
      startedAt: pod.startedAt === null ? null : new Date(pod.startedAt).toISOString(),
      version: pod.version,
      template: pod.template,
      containerState: pod.container,
      livenessFailing: pod.livenessFailing,
      nextRestartAt: pod.nextRestartAt === null ? null : new Date(pod.nextRestartAt).toISOString(),
      reason: podReason(pod, held),
    }));
}

export function eventSnapshots(core: ClusterCore, namespace: string): ClusterEvent[] {
  return (core.namespace(namespace)?.events ?? []).map((event) => ({ ...event }));
}
