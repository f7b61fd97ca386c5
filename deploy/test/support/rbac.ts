import type { K8sObject } from './manifests.js';

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const RBAC = 'rbac.authorization.k8s.io';
const NAMESPACE_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);

export const rulesOf = (role: K8sObject | undefined): Rule[] => ((role as unknown as { rules?: Rule[] } | undefined)?.rules ?? []);

const only = (list: string[] | undefined, value: string): boolean => list?.length === 1 && list[0] === value;

/**
 * Why a rule that a ClusterRoleBinding grants everywhere is more than the provisioner may
 * hold cluster-wide, or undefined when it is allowed. Allowed: namespaces with plain verbs;
 * `create` of RoleBindings (a new store namespace holds nothing the provisioner can use
 * until it binds itself there); `bind` of the one store-operator ClusterRole, by name.
 */
export function clusterWideExcess(rule: Rule, storeOperator: string): string | undefined {
  const text = JSON.stringify(rule);
  if (rule.nonResourceURLs?.length) return `non-resource URLs: ${text}`;
  if (only(rule.apiGroups, '') && only(rule.resources, 'namespaces') && !rule.resourceNames?.length) {
    const extra = rule.verbs.filter((verb) => !NAMESPACE_VERBS.has(verb));
    return extra.length ? `namespaces with ${extra.join(', ')}: ${text}` : undefined;
  }
  if (only(rule.apiGroups, RBAC) && only(rule.resources, 'rolebindings') && only(rule.verbs, 'create') && !rule.resourceNames?.length) return undefined;
  if (only(rule.apiGroups, RBAC) && only(rule.resources, 'clusterroles') && only(rule.verbs, 'bind') && only(rule.resourceNames, storeOperator)) return undefined;
  return `beyond namespaces: ${text}`;
}

/** Every rule granted cluster-wide (through a ClusterRoleBinding) that {@link clusterWideExcess} refuses, one line each. */
export function clusterWideViolations(objects: K8sObject[], storeOperator: string): string[] {
  const out: string[] = [];
  for (const binding of objects.filter((o) => o.kind === 'ClusterRoleBinding')) {
    const roleName = (binding as unknown as { roleRef: { name: string } }).roleRef.name;
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === roleName);
    if (!role) {
      out.push(`ClusterRoleBinding ${binding.metadata.name}: ClusterRole ${roleName} is not rendered, so what it grants is unknown`);
      continue;
    }
    for (const rule of rulesOf(role)) {
      const excess = clusterWideExcess(rule, storeOperator);
      if (excess) out.push(`ClusterRoleBinding ${binding.metadata.name} -> ${roleName}: ${excess}`);
    }
  }
  return out;
}

/** Whether `rules` allow `verb` on `group`/`resource` (no wildcards: the chart uses none). */
export const allows = (rules: Rule[], group: string, resource: string, verb: string): boolean =>
  rules.some((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb));
