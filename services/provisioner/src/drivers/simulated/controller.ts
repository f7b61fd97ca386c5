import { deploymentName, type ClusterCore } from './cluster-core.js';
import type { AutoscalingSpec } from './cluster-shapes.js';
import type { DeploymentState, NamespaceState } from './cluster-state.js';
import { createPod, removePod } from './pods.js';

// ---------------------------------------------------------------------------
// The controllers: a ReplicaSet-like pod count and an HPA-like autoscaler.
// ---------------------------------------------------------------------------

/** ReplicaSet-like: creates the missing pods (as far as the quota allows) and deletes the surplus. */
export function reconcile(core: ClusterCore, ns: NamespaceState, deployment: DeploymentState): void {
  const pods = core.podsOf(ns, deployment.spec.revision);
  if (pods.length < deployment.replicas) {
    for (let i = pods.length; i < deployment.replicas; i++) {
      if (!createPod(core, ns, deployment)) return;
    }
  } else if (pods.length > deployment.replicas) {
    // Kubernetes' order: pending before running, not ready before ready, more restarts first, newest first.
    const surplus = [...pods]
      .sort(
        (a, b) =>
          Number(a.phase === 'Running') - Number(b.phase === 'Running') ||
          Number(a.ready) - Number(b.ready) ||
          b.restarts - a.restarts ||
          b.createdAt - a.createdAt,
      )
      .slice(0, pods.length - deployment.replicas);
    for (const pod of surplus) removePod(core, ns, pod, 'Stopping container: scaled down');
  }
  deployment.replicaFailure = null;
}

/**
 * HPA-like: desired = ceil(running × usage / target), left alone within the tolerance,
 * clamped to [min, max]. Up at once; down only to the highest recommendation of the
 * stabilisation window, so a short dip does not remove pods.
 */
export function autoscale(core: ClusterCore, ns: NamespaceState, deployment: DeploymentState, spec: AutoscalingSpec): void {
  const now = core.now();
  const running = core.podsOf(ns, deployment.spec.revision).filter((pod) => pod.container === 'Running').length;
  const current = utilisation(core, ns, deployment);
  let recommended = deployment.replicas;
  if (current !== null) {
    const ratio = current / spec.targetCpuPercent;
    // The epsilon keeps floating-point noise (4 × 0.75000000001) from adding a pod.
    if (Math.abs(ratio - 1) > core.options.autoscaleTolerance) recommended = Math.ceil(running * ratio - 1e-9);
  }
  recommended = clamp(recommended, spec);
  const windowStart = now - core.scaled(core.options.autoscaleStabilizationMs);
  deployment.recommendations = deployment.recommendations.filter((entry) => entry.at > windowStart);
  deployment.recommendations.push({ at: now, replicas: recommended });
  const stabilised = Math.max(...deployment.recommendations.map((entry) => entry.replicas));
  const next = recommended > deployment.replicas ? recommended : Math.min(deployment.replicas, stabilised);
  if (next !== deployment.replicas) {
    const why = current === null ? 'no pod running' : `cpu ${Math.round(current)}% of request, target ${spec.targetCpuPercent}%`;
    core.event(ns, 'Normal', 'SuccessfulRescale', `horizontalpodautoscaler/${deploymentName(deployment.spec)}`, `New size: ${next}; reason: ${why}`);
    scaleTo(core, ns, deployment, next);
  }
}

export function scaleTo(core: ClusterCore, ns: NamespaceState, deployment: DeploymentState, replicas: number): void {
  if (replicas === deployment.replicas) return;
  const name = deploymentName(deployment.spec);
  const direction = replicas > deployment.replicas ? 'up' : 'down';
  core.event(ns, 'Normal', 'ScalingReplicaSet', `deployment/${name}`, `Scaled ${direction} replica set ${name} from ${deployment.replicas} to ${replicas}`);
  deployment.replicas = replicas;
}

/** Average CPU of the deployment's running pods in percent of their request; null while none runs. */
export function utilisation(core: ClusterCore, ns: NamespaceState, deployment: DeploymentState): number | null {
  const running = core.podsOf(ns, deployment.spec.revision).filter((pod) => pod.container === 'Running').length;
  if (running === 0) return null;
  return (ns.cpuDemand * deployment.spec.weight) / 100 / running;
}

export function clamp(replicas: number, spec: AutoscalingSpec): number {
  return Math.min(spec.max, Math.max(spec.min, replicas));
}
