import { type K8sObject, podSpec } from './manifests.js';

interface Container {
  name: string;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
}

/**
 * The deployment policy for every workload: each container (init containers too) has CPU
 * and memory requests and limits; readiness and liveness probes (Jobs excepted: they run
 * to completion); runs as non-root (container or pod securityContext) with a read-only
 * root filesystem, no privilege escalation and every capability dropped. Returns one line
 * per violation; empty when all comply.
 */
export function policyViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const spec = podSpec(o);
    if (!spec) continue;
    const isJob = o.kind === 'Job' || o.kind === 'CronJob';
    const podNonRoot = spec.securityContext?.runAsNonRoot === true;
    const containers: [Container, boolean][] = [
      ...((spec.initContainers ?? []) as Container[]).map((c): [Container, boolean] => [c, true]),
      ...((spec.containers ?? []) as Container[]).map((c): [Container, boolean] => [c, false]),
    ];
    if (containers.length === 0) out.push(`${o.kind} ${o.metadata.name}: no containers`);
    for (const [c, init] of containers) {
      const at = `${o.kind} ${o.metadata.name} container ${c.name}`;
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory'] as const) {
          if (!c.resources?.[kind]?.[resource]) out.push(`${at}: no ${resource} ${kind}`);
        }
      }
      if (!isJob && !init) {
        if (!c.readinessProbe) out.push(`${at}: no readinessProbe`);
        if (!c.livenessProbe) out.push(`${at}: no livenessProbe`);
      }
      const sc = c.securityContext ?? {};
      if (!(sc.runAsNonRoot === true || (sc.runAsNonRoot === undefined && podNonRoot))) out.push(`${at}: not runAsNonRoot`);
      if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: root filesystem not read-only`);
      if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: privilege escalation not disabled`);
      if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${at}: capabilities not dropped (drop: [ALL])`);
    }
  }
  return out;
}
