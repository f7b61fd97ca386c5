import type { StoreTemplate } from '@flotilla/contracts';
import { firstExceeded, sumUsage } from './quota.js';
import { deploymentName, type ClusterCore } from './cluster-core.js';
import type { AutoscalingSpec, DeploymentSpec } from './cluster-shapes.js';
import type { NamespaceState } from './cluster-state.js';
import { clamp, reconcile, scaleTo } from './controller.js';
import { removePod } from './pods.js';

// ---------------------------------------------------------------------------
// Deployments, the quota check before a release, load and autoscaling settings.
// ---------------------------------------------------------------------------

/**
 * Creates or updates the deployment of `spec.revision` and reconciles its pods at once;
 * a changed version replaces all the revision's pods. While autoscaling is on, an
 * existing deployment keeps the autoscaler's replica count.
 */
export function setDeployment(core: ClusterCore, ns: NamespaceState, spec: DeploymentSpec): void {
  ns.template ??= spec.template;
  const existing = ns.deployments.find((deployment) => deployment.spec.revision === spec.revision);
  if (!existing) {
    const replicas = ns.autoscaling ? clamp(spec.replicas, ns.autoscaling) : spec.replicas;
    const created = { spec: { ...spec }, replicas, recommendations: [], replicaFailure: null };
    ns.deployments.push(created);
    core.event(ns, 'Normal', 'ScalingReplicaSet', `deployment/${deploymentName(spec)}`, `Scaled up replica set ${deploymentName(spec)} to ${replicas}`);
    reconcile(core, ns, created);
    return;
  }
  if (existing.spec.version !== spec.version || existing.spec.template !== spec.template) {
    const message = `Stopping container: version ${existing.spec.version} replaced by ${spec.version}`;
    for (const pod of core.podsOf(ns, spec.revision)) removePod(core, ns, pod, message);
  }
  existing.spec = { ...spec };
  if (!ns.autoscaling) scaleTo(core, ns, existing, spec.replicas);
  reconcile(core, ns, existing);
}

/** Deletes the deployment of `revision` and its pods; does nothing when there is none. */
export function deleteDeployment(core: ClusterCore, ns: NamespaceState, revision: number): void {
  const index = ns.deployments.findIndex((deployment) => deployment.spec.revision === revision);
  if (index < 0) return;
  const [deployment] = ns.deployments.splice(index, 1);
  for (const pod of core.podsOf(ns, revision)) removePod(core, ns, pod, 'Stopping container: deployment deleted');
  const name = deploymentName(deployment!.spec);
  core.event(ns, 'Normal', 'DeploymentDeleted', `deployment/${name}`, `Deleted deployment ${name}`);
}

/** Why `pods` app pods of `template` and its database pods would not fit the quota on their own; undefined when they would. */
export function quotaProblem(core: ClusterCore, ns: NamespaceState, template: StoreTemplate, pods: number): string | undefined {
  const databases = core.databaseResources(ns, template);
  const total = sumUsage([...Array.from({ length: pods }, () => core.podResources(ns, template)), ...databases]);
  const exceeded = firstExceeded(ns.objects.resourceQuota, total);
  if (!exceeded) return undefined;
  return `${pods} app pod(s) and ${databases.length} database pod(s) of ${template} need ${exceeded.key}=${exceeded.need}, but the quota ${ns.objects.resourceQuota.name} allows ${exceeded.key}=${exceeded.hard}`;
}

/** The pods average `cpuPercent` of their request at the replica count they are meant to have now; the work behind it stays. */
export function setLoad(ns: NamespaceState, cpuPercent: number): void {
  if (!Number.isFinite(cpuPercent) || cpuPercent < 0) throw new RangeError('cpuPercent must be 0 or more');
  const replicas = ns.deployments.reduce((sum, deployment) => sum + deployment.replicas, 0);
  ns.cpuDemand = cpuPercent * Math.max(1, replicas);
}

/** Autoscaling of every deployment of the namespace on (each between `min` and `max`) or off with `null` (back to the applied replicas). */
export function setAutoscaling(core: ClusterCore, ns: NamespaceState, spec: AutoscalingSpec | null): void {
  if (spec) {
    const { min, max, targetCpuPercent } = spec;
    if (!Number.isInteger(min) || min < 1 || !Number.isInteger(max) || max < min) {
      throw new RangeError('autoscaling needs whole numbers with 1 <= min <= max');
    }
    if (!(targetCpuPercent > 0)) throw new RangeError('targetCpuPercent must be more than 0');
  }
  ns.autoscaling = spec && { ...spec };
  for (const deployment of ns.deployments) {
    deployment.recommendations = [];
    if (!spec) {
      scaleTo(core, ns, deployment, deployment.spec.replicas);
      reconcile(core, ns, deployment);
    }
  }
}
