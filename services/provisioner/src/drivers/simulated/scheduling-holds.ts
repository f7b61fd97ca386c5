const DEFAULT_HOLD_MESSAGE = '0/1 nodes are available: node(s) cordoned by chaos';

/**
 * Chaos: namespaces whose pods the simulated scheduler will not start, as if no node
 * could take them. Their pods stay `Pending` with an `Unschedulable` reason until the
 * hold is released; then they start on the scheduler's next try. The holds live in the
 * cluster's state, so they are shared and survive a restart like everything else.
 */
export class SchedulingHolds {
  constructor(private readonly holds: () => Record<string, string>) {}

  hold(namespace: string, message = DEFAULT_HOLD_MESSAGE): void {
    this.holds()[namespace] = message;
  }

  release(namespace: string): void {
    delete this.holds()[namespace];
  }

  /** The pod's waiting reason while its namespace is held, otherwise undefined. */
  reason(namespace: string): string | undefined {
    const holds = this.holds();
    return Object.hasOwn(holds, namespace) ? `Unschedulable: ${holds[namespace]}` : undefined;
  }
}

/** What a simulated pod waits on, as Kubernetes' container status would name it. */
export function podReason(pod: { phase: string; ready: boolean; container: string }, held: string | undefined): string | undefined {
  if (pod.phase === 'Pending') return held ?? 'ContainerCreating';
  if (pod.container === 'CrashLoopBackOff') return 'CrashLoopBackOff';
  return undefined;
}
