/**
 * Chaos: namespaces whose pods the simulated scheduler will not start, as if no node
 * could take them. Their pods stay `Pending` with an `Unschedulable` reason until the
 * hold is released; then they start on the scheduler's next try.
 */
export class SchedulingHolds {
  private readonly holds = new Map<string, string>();

  hold(namespace: string, message = '0/1 nodes are available: node(s) cordoned by chaos'): void {
    this.holds.set(namespace, message);
  }

  release(namespace: string): void {
    this.holds.delete(namespace);
  }

  /** The pod's waiting reason while its namespace is held, otherwise undefined. */
  reason(namespace: string): string | undefined {
    const message = this.holds.get(namespace);
    return message === undefined ? undefined : `Unschedulable: ${message}`;
  }
}

/** What a simulated pod waits on, as Kubernetes' container status would name it. */
export function podReason(pod: { phase: string; ready: boolean; container: string }, held: string | undefined): string | undefined {
  if (pod.phase === 'Pending') return held ?? 'ContainerCreating';
  if (pod.container === 'CrashLoopBackOff') return 'CrashLoopBackOff';
  return undefined;
}
