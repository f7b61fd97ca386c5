import type { V1LimitRange, V1Namespace, V1NetworkPolicy, V1ResourceQuota } from '@kubernetes/client-node';
import { PermanentDriverError, type NamespaceLimits, type StoreRef } from '../cluster-driver.js';
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

export const RESOURCE_QUOTA_NAME = 'store-quota';
export const LIMIT_RANGE_NAME = 'store-limits';

/** What `ensureNamespace` puts in a store's namespace. */
export interface NamespaceObjects {
  namespace: V1Namespace;
  resourceQuota: V1ResourceQuota;
  limitRange: V1LimitRange;
  networkPolicies: V1NetworkPolicy[];
}

const CPU = /^([0-9]+(\.[0-9]+)?|[0-9]+m)$/;
const BYTES = /^[0-9]+(\.[0-9]+)?(k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

/**
 * The namespace `store-{name}` with its labels, ResourceQuota and LimitRange from
 * `limits`, a default-deny NetworkPolicy and the allowances every store needs: HTTP
 * from the ingress controller's namespace to the app, DNS for every pod. The store
 * charts add their own policies (app to database, ...). Throws
 * {@link PermanentDriverError} for a refused name, id or limit.
 */
export function namespaceObjects(store: StoreRef, limits: NamespaceLimits, ingressNamespace: string): NamespaceObjects {
  const name = storeNamespace(store);
  const labels = {
    [NAMESPACE_LABELS.managedBy]: MANAGED_BY,
    [NAMESPACE_LABELS.store]: store.name,
    [NAMESPACE_LABELS.storeId]: checkLabelValue('store id', store.storeId),
    [NAMESPACE_LABELS.team]: checkLabelValue('team id', store.teamId),
    [NAMESPACE_LABELS.template]: checkTemplate(store.template),
  };
  const storeLabels = { [NAMESPACE_LABELS.managedBy]: MANAGED_BY, [NAMESPACE_LABELS.store]: store.name };
  for (const [what, count] of [['pods', limits.pods], ['persistentVolumeClaims', limits.persistentVolumeClaims]] as const) {
    if (!Number.isInteger(count) || count < 0) throw new PermanentDriverError(`${what} limit ${JSON.stringify(count)} is not a whole number`);
  }
  const cpu = (what: string, value: string): string => quantity(what, value, CPU);
  const bytes = (what: string, value: string): string => quantity(what, value, BYTES);

  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
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

function quantity(what: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new PermanentDriverError(`${what} limit ${JSON.stringify(value)} is not a quantity`);
  return value;
}
