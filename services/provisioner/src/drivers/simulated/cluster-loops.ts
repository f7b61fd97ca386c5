import type { ClusterCore } from './cluster-core.js';
import type { TimerAction } from './cluster-state.js';
import { autoscale, reconcile } from './controller.js';
import { podNamed, probe, startContainer } from './pods.js';

// ---------------------------------------------------------------------------
// What the cluster's timers do: the probe and controller loops, pod starts and
// restarts, and namespaces finishing their termination.
// ---------------------------------------------------------------------------

/**
 * Runs one due timer. `catchingUpTo` is the moment the clock is being brought to: the
 * loops skip runs long past rather than replaying every interval of a long gap (a
 * shared cluster whose every replica was down for a while). `namespaceGone` hears of
 * each namespace whose termination ended.
 */
export function runTimer(core: ClusterCore, action: TimerAction, catchingUpTo: number, namespaceGone: (name: string) => void): void {
  switch (action.kind) {
    case 'probe':
      return probeRun(core, catchingUpTo);
    case 'controller':
      return controllerRun(core, catchingUpTo);
    case 'terminate':
      delete core.state.namespaces[action.namespace];
      return namespaceGone(action.namespace);
    case 'start':
    case 'restart': {
      const ns = core.namespace(action.namespace);
      const pod = podNamed(ns, action.pod);
      if (ns && pod) startContainer(core, ns, pod, action.kind === 'restart');
      return;
    }
  }
}

/** Sets the loop timers that are not set (after a namespace is created). */
export function startLoops(core: ClusterCore): void {
  const { state, options } = core;
  state.probeTimer ??= core.later(core.scaled(options.probeIntervalMs), { kind: 'probe' });
  state.controllerTimer ??= core.later(core.scaled(options.controllerIntervalMs), { kind: 'controller' });
}

/** One round of probes over every running container, then sleep until the next (while namespaces exist). */
function probeRun(core: ClusterCore, catchingUpTo: number): void {
  const state = core.state;
  state.probeTimer = null;
  for (const ns of Object.values(state.namespaces)) {
    for (const pod of Object.values(ns.pods)) probe(core, ns, pod);
  }
  if (Object.keys(state.namespaces).length > 0) state.probeTimer = core.later(loopDelay(core, core.options.probeIntervalMs, catchingUpTo), { kind: 'probe' });
}

/** One reconcile of every deployment (autoscaling first, then the pod count), then sleep until the next. */
function controllerRun(core: ClusterCore, catchingUpTo: number): void {
  const state = core.state;
  state.controllerTimer = null;
  for (const ns of Object.values(state.namespaces)) {
    if (ns.phase !== 'Active') continue;
    for (const deployment of ns.deployments) {
      if (ns.autoscaling) autoscale(core, ns, deployment, ns.autoscaling);
      reconcile(core, ns, deployment);
    }
  }
  if (Object.keys(state.namespaces).length > 0) {
    state.controllerTimer = core.later(loopDelay(core, core.options.controllerIntervalMs, catchingUpTo), { kind: 'controller' });
  }
}

/** The loop's interval; when far behind, the next run is at the end of the gap rather than every interval in it. */
function loopDelay(core: ClusterCore, intervalMs: number, catchingUpTo: number): number {
  const interval = core.scaled(intervalMs);
  const behind = catchingUpTo - core.now();
  return behind > 2 * interval ? behind : interval;
}
