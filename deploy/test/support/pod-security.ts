import { podSpec, type K8sObject } from './manifests.js';

/* The Pod Security Standards' `restricted` profile (Kubernetes 1.30), as Pod Security Admission enforces it. */

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  procMount?: string;
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: Array<{ name: string }>;
}
interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: Array<{ hostPort?: number }>;
}

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SECCOMP = new Set(['RuntimeDefault', 'Localhost']);

/** One line per way a workload's pod breaks `restricted`; empty when every pod meets it. */
export function restrictedViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const spec = podSpec(o);
    if (!spec) continue;
    const where = `${o.kind} ${o.metadata.name}`;
    const pod: SecurityContext = spec.securityContext ?? {};
    for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[host]) out.push(`${where}: ${host}`);
    for (const sysctl of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) out.push(`${where}: sysctl ${sysctl.name}`);
    for (const volume of (spec.volumes ?? []) as Array<Record<string, unknown>>) {
      const type = Object.keys(volume).find((k) => k !== 'name');
      if (!type || !VOLUME_TYPES.has(type)) out.push(`${where}: volume ${String(volume.name)} of type ${type}`);
    }
    if (pod.runAsUser === 0) out.push(`${where}: pod runAsUser 0`);
    if (pod.seccompProfile && !SECCOMP.has(pod.seccompProfile.type ?? '')) out.push(`${where}: pod seccompProfile ${pod.seccompProfile.type}`);
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])] as Container[];
    for (const c of containers) {
      const at = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.privileged) out.push(`${at}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation is not false`);
      if (!(sc.runAsNonRoot === true || (sc.runAsNonRoot === undefined && pod.runAsNonRoot === true))) out.push(`${at}: runAsNonRoot is not true`);
      if (sc.runAsUser === 0) out.push(`${at}: runAsUser 0`);
      const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
      if (!SECCOMP.has(seccomp ?? '')) out.push(`${at}: seccompProfile ${seccomp ?? 'unset'}`);
      if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${at}: capabilities do not drop ALL`);
      for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${at}: adds capability ${cap}`);
      if (sc.procMount && sc.procMount !== 'Default') out.push(`${at}: procMount ${sc.procMount}`);
      if (sc.windowsOptions?.hostProcess) out.push(`${at}: hostProcess`);
      for (const port of c.ports ?? []) if (port.hostPort) out.push(`${at}: hostPort ${port.hostPort}`);
    }
  }
  return out;
}
