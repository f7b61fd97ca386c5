import type { V1RoleBinding } from '@kubernetes/client-node';
import { PermanentDriverError } from '../cluster-driver.js';
import { apiMessage, statusCode, type KubernetesApis } from './kube-apis.js';

/**
 * Creates the provisioner's RoleBinding (namespace-objects.ts `roleBinding`) in a store
 * namespace; when one of that name exists, replaces it with this one. Called right after
 * the namespace is created and before anything else is done in it: cluster-wide the
 * provisioner may only create RoleBindings and bind the store-operator role, so every
 * later call in the namespace (quota, limit range, Helm) works only once this is there.
 * 403 and 422 (a binding of another role, whose roleRef cannot change) are final.
 */
export async function bindStoreOperator(rbac: KubernetesApis['rbac'], binding: V1RoleBinding): Promise<void> {
  const namespace = binding.metadata?.namespace as string;
  const name = binding.metadata?.name as string;
  const fail = (operation: string, error: unknown): Error => {
    const code = statusCode(error);
    const message = `${operation} RoleBinding ${namespace}/${name} failed${code ? ` (HTTP ${code})` : ''}: ${apiMessage(error)}`;
    return code === 403 || code === 422 ? new PermanentDriverError(message, { cause: error }) : new Error(message, { cause: error });
  };
  try {
    await rbac.createNamespacedRoleBinding({ namespace, body: binding });
    return;
  } catch (error) {
    if (statusCode(error) !== 409) throw fail('create', error);
  }
  for (let attempt = 1; ; attempt++) {
    const existing = await rbac.readNamespacedRoleBinding({ name, namespace }).catch((error: unknown) => {
      throw fail('read', error);
    });
    if (sameGrant(existing, binding)) return;
    try {
      await rbac.replaceNamespacedRoleBinding({ name, namespace, body: { ...binding, metadata: { ...binding.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
      return;
    } catch (error) {
      if (statusCode(error) !== 409 || attempt >= 3) throw fail('replace', error);
    }
  }
}

/** Same role and same subjects (compared by kind, name and namespace: the server fills in defaults). */
function sameGrant(a: V1RoleBinding, b: V1RoleBinding): boolean {
  const subjects = (binding: V1RoleBinding): string => JSON.stringify((binding.subjects ?? []).map((s) => [s.kind, s.name, s.namespace ?? '']));
  return a.roleRef?.kind === b.roleRef.kind && a.roleRef?.name === b.roleRef.name && subjects(a) === subjects(b);
}
