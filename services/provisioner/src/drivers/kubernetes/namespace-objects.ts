import type { V1LimitRange, V1Namespace, V1NetworkPolicy, V1ResourceQuota, V1RoleBinding } from '@kubernetes/client-node';
import { PermanentDriverError, type NamespaceLimits, type StoreRef } from '../cluster-driver.js';
import { INSTALLATION_LABEL, installationIdProblem } from '../ownership.js';
import { checkLabelValue, checkTemplate, storeNamespace } from './store-release.js';

/** Labels of every store namespace; `listStoreNamespaces` finds them by `managed-by`. */
export const NAMESPACE_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  store: 'flotilla.io/store',
  storeId: 'flotilla.io/store-id',
  team: 'flotilla.io/team',
  template: 'flotilla.io/template',
} as const;

export const MANAGED_BY = 'flotilla';

/**
 * Pod Security Admission on every store namespace: `restricted` enforced (and warned and
 * audited at the same level), so no pod a store chart or a compromised store renders can
 * run privileged, as root, with added capabilities or host access.
 */
export const POD_SECURITY_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
} as const;

/**
 * Who operates inside a store namespace: the provisioner's ServiceAccount, bound there to
 * the store-operator ClusterRole (deploy/helm/flotilla/charts/provisioner/templates/rbac.yaml).
 * Cluster-wide the provisioner holds only namespaces, so this binding is what lets it set
 * the quota and run Helm in the namespace.
 */
export interface StoreAccess {
  serviceAccountName: string;
  serviceAccountNamespace: string;
  clusterRoleName: string;
}

export const ROLE_BINDING_NAME = 'flotilla-store-operator';

export const RESOURCE_QUOTA_NAME = 'store-quota';
export const LIMIT_RANGE_NAME = 'store-limits';

/** What `ensureNamespace` puts in a store's namespace. */
export interface NamespaceObjects {
  namespace: V1Namespace;
  /** The provisioner's RoleBinding; created first, since every later call needs it. Absent without `access`. */
  roleBinding?: V1RoleBinding;
  resourceQuota: V1ResourceQuota;
  limitRange: V1LimitRange;
  networkPolicies: V1NetworkPolicy[];
}

const CPU = /^([0-9]+(\.[0-9]+)?|[0-9]+m)$/;
const BYTES = /^[0-9]+(\.[0-9]+)?(k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

/**
 * The namespace `store-{name}` with its labels (Pod Security `restricted` among them),
 * the RoleBinding of `access` (when given), ResourceQuota and LimitRange from `limits`, a default-deny NetworkPolicy and the allowances every store needs: HTTP
 * from the ingress controller's namespace to the app, DNS for every pod. The store
 * charts add their own policies (app to database, ...). With `installationId`, the
 * namespace and every object in it are labelled `flotilla.io/installation` with it. Throws
 * {@link PermanentDriverError} for a refused name, id or limit.
 */
export function namespaceObjects(store: StoreRef, limits: NamespaceLimits, ingressNamespace: string, access?: StoreAccess, installationId?: string): NamespaceObjects {
  const name = storeNamespace(store);
  if (installationId !== undefined && installationIdProblem(installationId)) {
    throw new PermanentDriverError(`installation id ${JSON.stringify(installationId)} refused: ${installationIdProblem(installationId)}`);
  }
  const installation: Record<string, string> = installationId === undefined ? {} : { [INSTALLATION_LABEL]: installationId };
  const labels = {
    [NAMESPACE_LABELS.managedBy]: MANAGED_BY,
    [NAMESPACE_LABELS.store]: store.name,
    [NAMESPACE_LABELS.storeId]: checkLabelValue('store id', store.storeId),
    [NAMESPACE_LABELS.team]: checkLabelValue('team id', store.teamId),
    [NAMESPACE_LABELS.template]: checkTemplate(store.template),
    ...installation,
    ...POD_SECURITY_LABELS,
  };
  const storeLabels = { [NAMESPACE_LABELS.managedBy]: MANAGED_BY, [NAMESPACE_LABELS.store]: store.name, ...installation };
  for (const [what, count] of [['pods', limits.pods], ['persistentVolumeClaims', limits.persistentVolumeClaims]] as const) {
    if (!Number.isInteger(count) || count < 0) throw new PermanentDriverError(`${what} limit ${JSON.stringify(count)} is not a whole number`);
  }
  const cpu = (what: string, value: string): string => quantity(what, value, CPU);
  const bytes = (what: string, value: string): string => quantity(what, value, BYTES);

  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
    ...(access ? { roleBinding: roleBinding(name, storeLabels, access) } : {}),
    resourceQuota: {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: RESOURCE_QUOTA_NAME, namespace: name, labels: storeLabels },
      spec: {
        hard: {
          pods: String(limits.pods),
          'requests.cpu': cpu('requestsCpu', limits.requestsCpu),
          'requests.memory': bytes('requestsMemory', limits.requestsMemory),
          'limits.cpu': cpu('limitsCpu', limits.limitsCpu),
          'limits.memory': bytes('limitsMemory', limits.limitsMemory),
          persistentvolumeclaims: String(limits.persistentVolumeClaims),
          'requests.storage': bytes('requestsStorage', limits.requestsStorage),
        },
      },
    },
    limitRange: {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: LIMIT_RANGE_NAME, namespace: name, labels: storeLabels },
      spec: {
        limits: [
          {
            type: 'Container',
            _default: { cpu: cpu('defaultCpu', limits.defaultCpu), memory: bytes('defaultMemory', limits.defaultMemory) },
            defaultRequest: {
              cpu: cpu('defaultRequestCpu', limits.defaultRequestCpu),
              memory: bytes('defaultRequestMemory', limits.defaultRequestMemory),
            },
          },
        ],
      },
    },
    networkPolicies: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny', namespace: name, labels: storeLabels },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-ingress-controller', namespace: name, labels: storeLabels },
        spec: {
          podSelector: { matchLabels: { 'app.kubernetes.io/component': 'app' } },
          policyTypes: ['Ingress'],
          ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ingressNamespace } } }] }],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-dns', namespace: name, labels: storeLabels },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        },
      },
    ],
  };
}

function roleBinding(namespace: string, labels: Record<string, string>, access: StoreAccess): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: ROLE_BINDING_NAME, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: access.clusterRoleName },
    subjects: [{ kind: 'ServiceAccount', name: access.serviceAccountName, namespace: access.serviceAccountNamespace }],
  };
}

function quantity(what: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new PermanentDriverError(`${what} limit ${JSON.stringify(value)} is not a quantity`);
  return value;
}
