import { beforeAll, describe, expect, it } from '@jest/globals';
import { evaluate } from '@marcbachmann/cel-js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helmTemplate } from './support/helm.js';
import type { K8sObject } from './support/manifests.js';
import { CHART, ROOT, VALUES_FILES } from './support/paths.js';
import { allows, clusterWideViolations, rulesOf } from './support/rbac.js';

/*
 * The provisioner's RBAC as the umbrella chart renders it. Cluster-wide it may only manage
 * namespaces, create RoleBindings and bind the one store-operator ClusterRole; everything
 * it does inside a store namespace comes from that role, bound there by a RoleBinding the
 * driver creates (namespace-objects.ts).
 */

const NAMESPACE = { 'values.yaml': 'flotilla', 'values-dev.yaml': 'flotilla-dev', 'values-prod.yaml': 'flotilla-prod' } as const;
const STORE_CHARTS = join(ROOT, 'deploy/store-charts');

/** Group and resource of each kind the store charts render. */
const RESOURCES: Record<string, [string, string]> = {
  ConfigMap: ['', 'configmaps'],
  Secret: ['', 'secrets'],
  Service: ['', 'services'],
  PersistentVolumeClaim: ['', 'persistentvolumeclaims'],
  Deployment: ['apps', 'deployments'],
  StatefulSet: ['apps', 'statefulsets'],
  Job: ['batch', 'jobs'],
  Ingress: ['networking.k8s.io', 'ingresses'],
  NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
  PodDisruptionBudget: ['policy', 'poddisruptionbudgets'],
  HorizontalPodAutoscaler: ['autoscaling', 'horizontalpodautoscalers'],
};

function storeChartKinds(): Set<string> {
  // The charts' own templates and the named templates of the library chart they share (store-common).
  const files = readdirSync(STORE_CHARTS, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('templates') && /\.(yaml|tpl)$/.test(f));
  return new Set(files.flatMap((f) => [...readFileSync(join(STORE_CHARTS, f), 'utf8').matchAll(/^kind: (\w+)/gm)].map((m) => m[1])));
}

describe.each(VALUES_FILES)('the provisioner RBAC rendered with %s', (file) => {
  const namespace = NAMESPACE[file];
  const storeOperator = `${namespace}-flotilla-provisioner-store-operator`;
  let objects: K8sObject[];
  const find = (kind: string, name: string): K8sObject | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name);

  beforeAll(() => {
    objects = helmTemplate(CHART, join(CHART, file), namespace);
  });

  it('grants nothing cluster-wide but namespaces, RoleBinding creation and bind of the store-operator role', () => {
    expect(objects.some((o) => o.kind === 'ClusterRoleBinding')).toBe(true);
    expect(clusterWideViolations(objects, storeOperator)).toEqual([]);
  });

  it('lets the provisioner manage namespaces and bind itself to the store-operator role, and nothing more', () => {
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding');
    expect(bindings.map((b) => (b as unknown as { subjects: unknown[] }).subjects)).toEqual([[{ kind: 'ServiceAccount', name: 'flotilla-provisioner', namespace }]]);
    const rules = rulesOf(find('ClusterRole', (bindings[0] as unknown as { roleRef: { name: string } }).roleRef.name));
    for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) expect(`namespaces ${verb}: ${allows(rules, '', 'namespaces', verb)}`).toBe(`namespaces ${verb}: true`);
    expect(allows(rules, 'rbac.authorization.k8s.io', 'rolebindings', 'create')).toBe(true);
    expect(rules).toContainEqual({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [storeOperator] });
  });

  it('renders the store-operator ClusterRole, bound by no ClusterRoleBinding, with what Helm and the driver do in a store namespace', () => {
    const role = find('ClusterRole', storeOperator);
    expect(role).toBeDefined();
    for (const binding of objects.filter((o) => o.kind === 'ClusterRoleBinding')) {
      expect((binding as unknown as { roleRef: { name: string } }).roleRef.name).not.toBe(storeOperator);
    }
    const rules = rulesOf(role);
    const can = (group: string, resource: string, verb: string): string => `${group}/${resource} ${verb}: ${allows(rules, group, resource, verb)}`;
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    for (const kind of storeChartKinds()) {
      expect(`${kind} known: ${RESOURCES[kind] !== undefined}`).toBe(`${kind} known: true`);
      for (const verb of all) expect(can(...RESOURCES[kind], verb)).toBe(`${RESOURCES[kind].join('/')} ${verb}: true`);
    }
    // The driver's own calls (kubernetes-driver.ts) and Helm's --wait.
    for (const [group, resource, verbs] of [
      ['', 'resourcequotas', ['get', 'create', 'update']],
      ['', 'limitranges', ['get', 'create', 'update']],
      ['networking.k8s.io', 'networkpolicies', ['get', 'create', 'update']],
      ['', 'pods', ['get', 'list', 'watch', 'delete']],
      ['apps', 'deployments', ['list']],
      ['apps', 'replicasets', ['get', 'list', 'watch']],
      ['rbac.authorization.k8s.io', 'rolebindings', ['get', 'update']],
    ] as const) {
      for (const verb of verbs) expect(can(group, resource, verb)).toBe(`${group}/${resource} ${verb}: true`);
    }
    // Nothing cluster-scoped, no wildcard, no escalation.
    for (const rule of rules) {
      expect(rule.verbs.filter((v) => ['*', 'bind', 'escalate', 'impersonate'].includes(v))).toEqual([]);
      expect(rule.resources?.filter((r) => r === '*' || ['namespaces', 'nodes', 'clusterroles', 'clusterrolebindings', 'roles', 'persistentvolumes'].includes(r))).toEqual([]);
      expect(rule.apiGroups).not.toContain('*');
      expect(rule.nonResourceURLs ?? []).toEqual([]);
    }
  });

  describe('the admission policy that keeps those rights to store namespaces', () => {
    const user = `system:serviceaccount:${namespace}:flotilla-provisioner`;
    const store = { metadata: { name: 'store-shop', labels: { 'app.kubernetes.io/managed-by': 'flotilla' } } };
    const system = { metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } };
    const bare = { metadata: { name: 'other' } };
    const binding = (role = storeOperator) => ({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [] });
    type Request = { resource: string; operation: string; object?: unknown; oldObject?: unknown; namespaceObject?: unknown; username?: string };

    /** What the API server decides for `request`: allowed, or the messages of the validations that failed (CEL evaluated as the policy says). */
    function decide(request: Request): string[] | 'allowed' | 'not matched' {
      const policy = find('ValidatingAdmissionPolicy', `${namespace}-flotilla-provisioner-store-namespaces`);
      if (!policy) throw new Error('no ValidatingAdmissionPolicy rendered');
      const rules = policy.spec.matchConstraints.resourceRules as Array<{ resources: string[]; operations: string[] }>;
      if (!rules.some((r) => r.resources.includes(request.resource) && r.operations.includes(request.operation))) return 'not matched';
      const vars = {
        request: { resource: { resource: request.resource }, operation: request.operation, userInfo: { username: request.username ?? user } },
        object: request.object ?? null,
        oldObject: request.oldObject ?? null,
        namespaceObject: request.namespaceObject ?? null,
      };
      for (const condition of policy.spec.matchConditions as Array<{ expression: string }>) if (evaluate(condition.expression, vars) !== true) return 'not matched';
      const failed = (policy.spec.validations as Array<{ expression: string; message: string }>).filter((v) => evaluate(v.expression, vars) !== true).map((v) => v.message);
      return failed.length ? failed : 'allowed';
    }

    it('is bound, denying, and fails closed', () => {
      const policy = find('ValidatingAdmissionPolicy', `${namespace}-flotilla-provisioner-store-namespaces`);
      expect(policy?.spec.failurePolicy).toBe('Fail');
      expect(find('ValidatingAdmissionPolicyBinding', `${namespace}-flotilla-provisioner-store-namespaces`)?.spec).toEqual({
        policyName: `${namespace}-flotilla-provisioner-store-namespaces`,
        validationActions: ['Deny'],
      });
    });

    it('lets the provisioner create, adopt and delete store namespaces and bind the store-operator role in them', () => {
      expect(decide({ resource: 'namespaces', operation: 'CREATE', object: store })).toBe('allowed');
      expect(decide({ resource: 'namespaces', operation: 'UPDATE', object: store, oldObject: store })).toBe('allowed');
      expect(decide({ resource: 'namespaces', operation: 'DELETE', oldObject: store })).toBe('allowed');
      expect(decide({ resource: 'rolebindings', operation: 'CREATE', object: binding(), namespaceObject: store })).toBe('allowed');
    });

    it('refuses it any other namespace, any RoleBinding outside store namespaces and any other role', () => {
      expect(decide({ resource: 'namespaces', operation: 'CREATE', object: bare })).toHaveLength(1);
      expect(decide({ resource: 'namespaces', operation: 'UPDATE', object: { metadata: { ...system.metadata, labels: store.metadata.labels } }, oldObject: system })).toHaveLength(1);
      expect(decide({ resource: 'namespaces', operation: 'DELETE', oldObject: system })).toHaveLength(1);
      expect(decide({ resource: 'namespaces', operation: 'DELETE', oldObject: bare })).toHaveLength(1);
      expect(decide({ resource: 'rolebindings', operation: 'CREATE', object: binding(), namespaceObject: system })).toEqual(['the provisioner binds roles only in store namespaces']);
      expect(decide({ resource: 'rolebindings', operation: 'CREATE', object: binding('admin'), namespaceObject: store })).toEqual(['the provisioner binds only the store-operator role']);
    });

    it('leaves everyone else alone', () => {
      expect(decide({ resource: 'namespaces', operation: 'DELETE', oldObject: system, username: 'system:serviceaccount:kube-system:namespace-controller' })).toBe('not matched');
      expect(decide({ resource: 'namespaces', operation: 'CREATE', object: bare, username: 'kubernetes-admin' })).toBe('not matched');
    });
  });

  it('tells the provisioner its ServiceAccount and the store-operator role, so it can bind them in each store namespace', () => {
    const config = find('ConfigMap', 'flotilla-provisioner')?.data ?? {};
    expect({
      PROVISIONER_SERVICE_ACCOUNT: config.PROVISIONER_SERVICE_ACCOUNT,
      PROVISIONER_NAMESPACE: config.PROVISIONER_NAMESPACE,
      STORE_OPERATOR_CLUSTER_ROLE: config.STORE_OPERATOR_CLUSTER_ROLE,
    }).toEqual({ PROVISIONER_SERVICE_ACCOUNT: 'flotilla-provisioner', PROVISIONER_NAMESPACE: namespace, STORE_OPERATOR_CLUSTER_ROLE: storeOperator });
  });
});
