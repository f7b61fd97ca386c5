import { exceededQuota } from './quota.js';
import { nameSuffix } from './random.js';
import { deploymentName, formatDelay, type ClusterCore } from './cluster-core.js';
import type { DeploymentState, NamespaceState, PodState } from './cluster-state.js';

// ---------------------------------------------------------------------------
// Pods: Pending → Running → Ready, readiness and liveness probes, CrashLoopBackOff.
// ---------------------------------------------------------------------------

/** One probe of a running container: liveness first (a failure crashes it), then readiness. */
export function probe(core: ClusterCore, ns: NamespaceState, pod: PodState): void {
  if (pod.phase !== 'Running' || pod.container !== 'Running') return;
  if (pod.livenessFailing) {
    crash(core, ns, pod);
    return;
  }
  pod.crashes = 0;
  const now = core.now();
  const ready = now >= (pod.readyAt ?? Infinity) && !core.state.failingVersions.includes(pod.version);
  if (!ready && now >= (pod.readyAt ?? Infinity)) {
    core.event(ns, 'Warning', 'Unhealthy', `pod/${pod.name}`, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
  }
  pod.ready = ready;
}

/** A failed liveness probe: the container is killed and restarted after 1 s, 2 s, 4 s … (capped), scaled. */
function crash(core: ClusterCore, ns: NamespaceState, pod: PodState): void {
  const { backoffBaseMs, backoffMaxMs } = core.options;
  const delay = core.scaled(Math.min(backoffBaseMs * 2 ** pod.crashes, backoffMaxMs));
  pod.crashes += 1;
  pod.ready = false;
  pod.container = 'CrashLoopBackOff';
  pod.nextRestartAt = core.now() + delay;
  core.event(ns, 'Warning', 'Unhealthy', `pod/${pod.name}`, 'Liveness probe failed: HTTP probe failed with statuscode: 500');
  core.event(ns, 'Warning', 'BackOff', `pod/${pod.name}`, `Back-off ${formatDelay(delay)} restarting failed container`);
  pod.timer = core.later(delay, { kind: 'restart', namespace: ns.name, pod: pod.name });
}

/** The pod's start (or restart) timer is due. */
export function startContainer(core: ClusterCore, ns: NamespaceState, pod: PodState, restart: boolean): void {
  if (restart) pod.restarts += 1;
  if (pod.phase === 'Pending' && Object.hasOwn(core.state.holds, ns.name)) {
    // Held by chaos: the scheduler tries again later, as it would once a node frees up.
    pod.timer = core.later(core.jittered(core.options.podStartMs), { kind: 'start', namespace: ns.name, pod: pod.name });
    return;
  }
  const now = core.now();
  pod.timer = null;
  pod.nextRestartAt = null;
  pod.phase = 'Running';
  pod.container = 'Running';
  pod.startedAt ??= now;
  pod.readyAt = now + core.jittered(core.options.podReadyMs);
  core.event(ns, 'Normal', 'Started', `pod/${pod.name}`, 'Started container');
}

/** A new pod of the deployment, unless the quota refuses it (then the deployment records why). */
export function createPod(core: ClusterCore, ns: NamespaceState, deployment: DeploymentState): PodState | undefined {
  const { spec } = deployment;
  let name: string;
  do name = `${deploymentName(spec)}-${nameSuffix(core.options.random)}`;
  while (Object.hasOwn(ns.pods, name));
  const resources = core.podResources(ns, spec.template);
  const exceeded = exceededQuota(ns.objects.resourceQuota, core.usage(ns), resources);
  if (exceeded) {
    deployment.replicaFailure = `pods "${name}" is forbidden: exceeded quota: ${exceeded}`;
    core.event(ns, 'Warning', 'FailedCreate', `replicaset/${deploymentName(spec)}`, `Error creating: ${deployment.replicaFailure}`);
    return undefined;
  }
  const pod: PodState = {
    name,
    revision: spec.revision,
    version: spec.version,
    template: spec.template,
    resources,
    createdAt: core.now(),
    phase: 'Pending',
    container: 'ContainerCreating',
    ready: false,
    restarts: 0,
    startedAt: null,
    readyAt: null,
    livenessFailing: false,
    crashes: 0,
    nextRestartAt: null,
    timer: null,
  };
  pod.timer = core.later(core.jittered(core.options.podStartMs), { kind: 'start', namespace: ns.name, pod: name });
  ns.pods[name] = pod;
  core.event(ns, 'Normal', 'SuccessfulCreate', `replicaset/${deploymentName(spec)}`, `Created pod: ${name}`);
  return pod;
}

export function removePod(core: ClusterCore, ns: NamespaceState, pod: PodState, message: string): void {
  core.cancel(pod.timer);
  pod.timer = null;
  delete ns.pods[pod.name];
  core.event(ns, 'Normal', 'Killing', `pod/${pod.name}`, message);
}

/** Chaos: deletes up to `count` pods of the namespace, chosen at random; returns them. */
export function killRandomPods(core: ClusterCore, ns: NamespaceState, count: number): PodState[] {
  const candidates = Object.values(ns.pods).sort((a, b) => a.name.localeCompare(b.name));
  const victims: PodState[] = [];
  while (victims.length < count && candidates.length > 0) {
    const index = Math.min(candidates.length - 1, Math.floor(core.options.random() * candidates.length));
    victims.push(...candidates.splice(index, 1));
  }
  for (const pod of victims) removePod(core, ns, pod, 'Stopping container: killed by chaos');
  return victims;
}

/** The pod of that name in the namespace, if any. */
export function podNamed(ns: NamespaceState | undefined, name: string): PodState | undefined {
  return ns && Object.hasOwn(ns.pods, name) ? ns.pods[name] : undefined;
}
