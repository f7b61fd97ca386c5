import { PermanentDriverError, type NamespaceLimits, type ReleaseSpec, type StoreRef } from '../cluster-driver.js';
import { INSTALLATION_LABEL } from '../ownership.js';
import { parseCpu, parseMemory } from './quantity.js';
import type { NamespaceObjects } from './cluster-shapes.js';

/** Labels every store namespace carries; `listStoreNamespaces` finds them by `managedBy` and `installation`. */
export const STORE_NAMESPACE_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  installation: INSTALLATION_LABEL,
  storeId: 'flotilla.io/store-id',
  store: 'flotilla.io/store',
  teamId: 'flotilla.io/team',
  template: 'flotilla.io/template',
} as const;

export const MANAGED_BY = 'flotilla';
/** Where the simulated store allowances let traffic in from. */
const INGRESS_NAMESPACE = 'ingress-nginx';

/** The namespace's labels, quota, limit range and network policies for `limits`. */
export function namespaceObjects(store: StoreRef, limits: NamespaceLimits, installationId: string): NamespaceObjects {
  if (!Number.isInteger(limits.pods) || limits.pods < 0) throw new PermanentDriverError(`pods limit ${limits.pods} is not a whole number`);
  if (!Number.isInteger(limits.persistentVolumeClaims) || limits.persistentVolumeClaims < 0) {
    throw new PermanentDriverError(`persistentVolumeClaims limit ${limits.persistentVolumeClaims} is not a whole number`);
  }
  // Refuse what the cluster could not parse before anything is recorded.
  for (const cpu of [limits.requestsCpu, limits.limitsCpu, limits.defaultCpu, limits.defaultRequestCpu]) parseCpu(cpu);
  for (const memory of [limits.requestsMemory, limits.limitsMemory, limits.requestsStorage, limits.defaultMemory, limits.defaultRequestMemory]) {
    parseMemory(memory);
  }
  const storeTraffic = { matchLabels: {} };
  return {
    labels: {
      [STORE_NAMESPACE_LABELS.managedBy]: MANAGED_BY,
      [STORE_NAMESPACE_LABELS.installation]: installationId,
      [STORE_NAMESPACE_LABELS.storeId]: store.storeId,
      [STORE_NAMESPACE_LABELS.store]: store.name,
      [STORE_NAMESPACE_LABELS.teamId]: store.teamId,
      [STORE_NAMESPACE_LABELS.template]: store.template,
    },
    resourceQuota: {
      name: 'store-quota',
      hard: {
        pods: String(limits.pods),
        'requests.cpu': limits.requestsCpu,
        'requests.memory': limits.requestsMemory,
        'limits.cpu': limits.limitsCpu,
        'limits.memory': limits.limitsMemory,
        persistentvolumeclaims: String(limits.persistentVolumeClaims),
        'requests.storage': limits.requestsStorage,
      },
    },
    limitRange: {
      name: 'store-limits',
      limits: [
        {
          type: 'Container',
          default: { cpu: limits.defaultCpu, memory: limits.defaultMemory },
          defaultRequest: { cpu: limits.defaultRequestCpu, memory: limits.defaultRequestMemory },
        },
      ],
    },
    networkPolicies: [
      { name: 'default-deny', podSelector: { matchLabels: {} }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] },
      {
        name: 'allow-store',
        podSelector: { matchLabels: {} },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ podSelector: storeTraffic }] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_NAMESPACE } } }] },
        ],
        egress: [
          { to: [{ podSelector: storeTraffic }] },
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    ],
  };
}

/** Refuses a release the cluster could never run as given. */
export function validateRelease(release: ReleaseSpec): void {
  const refuse = (why: string): never => {
    throw new PermanentDriverError(`release refused: ${why}`);
  };
  if (typeof release.host !== 'string' || release.host.length === 0) refuse('the host is empty');
  const seen = new Set<number>();
  for (const revision of release.revisions) {
    if (!Number.isInteger(revision.revision) || revision.revision < 1) refuse(`revision ${revision.revision} is not a whole number of 1 or more`);
    if (seen.has(revision.revision)) refuse(`revision ${revision.revision} is listed twice`);
    seen.add(revision.revision);
    if (typeof revision.version !== 'string' || revision.version.length === 0) refuse(`revision ${revision.revision} has no version`);
    if (!Number.isInteger(revision.replicas) || revision.replicas < 0) refuse(`revision ${revision.revision} asks for ${revision.replicas} replicas`);
    if (!Number.isFinite(revision.weight) || revision.weight < 0 || revision.weight > 100) {
      refuse(`revision ${revision.revision} has weight ${revision.weight}, not 0 to 100`);
    }
  }
  const total = release.revisions.reduce((sum, revision) => sum + revision.weight, 0);
  if (release.revisions.length > 0 && Math.abs(total - 100) > 1e-6) refuse(`the weights add up to ${total}, not 100`);
}
