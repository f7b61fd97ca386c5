import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { StorePod } from '@flotilla/contracts';
import type { RevisionSpec } from '../cluster-driver.js';

/** Labels and annotations the store charts set on the app's Deployments and pods. */
export const REVISION_LABEL = 'flotilla.io/revision';
export const VERSION_ANNOTATION = 'flotilla.io/version';
export const WEIGHT_ANNOTATION = 'flotilla.io/weight';

/** Selects the app's pods and Deployments of one store (never its database or jobs). */
export function appSelector(storeName: string): string {
  return `flotilla.io/store=${storeName},app.kubernetes.io/component=app`;
}

const PHASES: readonly StorePod['phase'][] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

function revisionOf(labels: Record<string, string> | undefined): number | undefined {
  const raw = labels?.[REVISION_LABEL];
  if (raw === undefined || !/^[0-9]{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}

function isoTime(value: Date | string | undefined): string | null {
  if (value === undefined || value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * A pod as the API reports it: ready when its Ready condition is True and it is not
 * being deleted; restarts summed over its containers and init containers. Undefined
 * for a pod without a revision label (not one of the app's).
 */
export function toStorePod(pod: V1Pod): StorePod | undefined {
  const revision = revisionOf(pod.metadata?.labels);
  const name = pod.metadata?.name;
  if (revision === undefined || !name) return undefined;
  const status = pod.status;
  const phase = PHASES.find((candidate) => candidate === status?.phase) ?? 'Unknown';
  const readyCondition = status?.conditions?.find((condition) => condition.type === 'Ready');
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const ready = readyCondition?.status === 'True' && !terminating;
  const why = ready ? undefined : podReason(pod);
  const restarts = [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])].reduce(
    (sum, container) => sum + (container.restartCount ?? 0),
    0,
  );
  return {
    name,
    phase,
    ready,
    restarts,
    revision,
    startedAt: isoTime(status?.startTime),
    ...(why ? { reason: why } : {}),
  };
}

/**
 * Why a pod is not ready, as the API tells it: the scheduler's refusal (`Unschedulable:
 * 0/3 nodes are available: …`), or the first waiting reason of its containers
 * (`CrashLoopBackOff`, `ImagePullBackOff`, `CreateContainerConfigError`, …).
 */
function podReason(pod: V1Pod): string | undefined {
  const unscheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False');
  if (unscheduled) return [unscheduled.reason ?? 'Unschedulable', unscheduled.message].filter(Boolean).join(': ');
  const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return containers.map((container) => container.state?.waiting?.reason).find((reason): reason is string => Boolean(reason));
}

/** What the Deployments' ReplicaSets could not create (the quota refusing pods), from their `ReplicaFailure` conditions. */
export function replicaFailures(deployments: V1Deployment[]): string[] {
  return deployments.flatMap((deployment) =>
    (deployment.status?.conditions ?? [])
      .filter((condition) => condition.type === 'ReplicaFailure' && condition.status === 'True')
      .map((condition) => condition.message ?? condition.reason ?? 'ReplicaFailure'),
  );
}

/** The revision a Deployment runs, from its label and the annotations the charts set; undefined if it has none. */
export function toRevision(deployment: V1Deployment): RevisionSpec | undefined {
  const revision = revisionOf(deployment.metadata?.labels);
  if (revision === undefined) return undefined;
  const annotations = deployment.metadata?.annotations ?? {};
  const weight = Number(annotations[WEIGHT_ANNOTATION]);
  const image = deployment.spec?.template?.spec?.containers?.[0]?.image ?? '';
  return {
    revision,
    version: annotations[VERSION_ANNOTATION] ?? image.slice(image.lastIndexOf(':') + 1),
    replicas: deployment.spec?.replicas ?? 1,
    weight: Number.isInteger(weight) ? weight : 0,
  };
}
