import type { V1Namespace } from '@kubernetes/client-node';
import { PermanentDriverError, type NamespaceLimits, type StoreNamespace, type StoreRef } from '../cluster-driver.js';
import { INSTALLATION_LABEL, type Ownership } from '../ownership.js';
import { apiError, createOrReplace } from './api-errors.js';
import { statusCode, type KubernetesApis } from './kube-apis.js';
import { MANAGED_BY, NAMESPACE_LABELS, namespaceObjects, type StoreAccess } from './namespace-objects.js';
import { bindStoreOperator } from './store-access.js';

export interface StoreNamespacesOptions {
  ownership: Ownership;
  ingressNamespace: string;
  /** Bound in each store namespace before anything else is done there (deploy/README.md, RBAC); no binding when unset. */
  access?: StoreAccess;
  /** How long `delete` waits for the namespace to be gone. */
  deleteTimeoutMs: number;
  /** How often `delete` looks. */
  deletePollMs: number;
  apis: () => Promise<KubernetesApis>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** A namespace of that name is still terminating: worth trying again once it is gone. */
export class NamespaceTerminatingError extends Error {
  override readonly name = 'NamespaceTerminatingError';
}

/**
 * The kubernetes driver's store namespaces: created with the installation's label, their
 * quota, limit range and network policies; adopted only when they are this store's and
 * this installation's; deleted with a bounded wait; listed by the installation's label.
 */
export class StoreNamespaces {
  constructor(private readonly options: StoreNamespacesOptions) {}

  /** Creates the namespace and its objects; objects that exist are replaced with these. */
  async ensure(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    const objects = namespaceObjects(store, limits, this.options.ingressNamespace, this.options.access, this.options.ownership.installationId);
    const body: V1Namespace = objects.namespace;
    const namespace = store.namespace;
    const { core, networking, rbac } = await this.options.apis();

    try {
      await core.createNamespace({ body });
    } catch (error) {
      if (statusCode(error) !== 409) throw apiError(`create namespace ${namespace}`, error);
      await this.adopt(store, body.metadata?.labels ?? {});
    }
    if (objects.roleBinding) await bindStoreOperator(rbac, objects.roleBinding);

    await createOrReplace(`ResourceQuota ${namespace}/${objects.resourceQuota.metadata?.name}`, objects.resourceQuota, {
      create: (quota) => core.createNamespacedResourceQuota({ namespace, body: quota }),
      read: (name) => core.readNamespacedResourceQuota({ name, namespace }),
      replace: (name, quota) => core.replaceNamespacedResourceQuota({ name, namespace, body: quota }),
    });
    await createOrReplace(`LimitRange ${namespace}/${objects.limitRange.metadata?.name}`, objects.limitRange, {
      create: (range) => core.createNamespacedLimitRange({ namespace, body: range }),
      read: (name) => core.readNamespacedLimitRange({ name, namespace }),
      replace: (name, range) => core.replaceNamespacedLimitRange({ name, namespace, body: range }),
    });
    for (const policy of objects.networkPolicies) {
      await createOrReplace(`NetworkPolicy ${namespace}/${policy.metadata?.name}`, policy, {
        create: (created) => networking.createNamespacedNetworkPolicy({ namespace, body: created }),
        read: (name) => networking.readNamespacedNetworkPolicy({ name, namespace }),
        replace: (name, replaced) => networking.replaceNamespacedNetworkPolicy({ name, namespace, body: replaced }),
      });
    }
  }

  /** Whether the namespace exists (terminating ones too). */
  async exists(namespace: string): Promise<boolean> {
    const { core } = await this.options.apis();
    try {
      await core.readNamespace({ name: namespace });
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw apiError(`read namespace ${namespace}`, error);
    }
  }

  /** Deletes the namespace and polls until it is gone; rejects with a plain error when it is still there after the timeout. */
  async delete(namespace: string): Promise<void> {
    const { core } = await this.options.apis();
    try {
      await core.deleteNamespace({ name: namespace, propagationPolicy: 'Foreground' });
    } catch (error) {
      // 404: already gone; 409: already terminating.
      const code = statusCode(error);
      if (code !== 404 && code !== 409) throw apiError(`delete namespace ${namespace}`, error);
    }
    const deadline = this.options.now() + this.options.deleteTimeoutMs;
    while (await this.exists(namespace)) {
      if (this.options.now() >= deadline) throw new Error(`namespace ${namespace} is still terminating after ${this.options.deleteTimeoutMs} ms`);
      await this.options.sleep(this.options.deletePollMs);
    }
  }

  /** The namespaces labelled `managed-by=flotilla` and with this installation's id (terminating ones too), page by page. */
  async list(): Promise<StoreNamespace[]> {
    const { core } = await this.options.apis();
    const { installationId } = this.options.ownership;
    const found: StoreNamespace[] = [];
    let page: string | undefined;
    do {
      const list = await core
        .listNamespace({ labelSelector: `${NAMESPACE_LABELS.managedBy}=${MANAGED_BY},${INSTALLATION_LABEL}=${installationId}`, limit: 500, _continue: page })
        .catch((error: unknown) => {
          throw apiError('list store namespaces', error);
        });
      for (const namespace of list.items) {
        const name = namespace.metadata?.name;
        const labels = namespace.metadata?.labels ?? {};
        // The server filtered by label already; checked again so that nothing else is ever swept.
        if (!name || labels[INSTALLATION_LABEL] !== installationId || labels[NAMESPACE_LABELS.managedBy] !== MANAGED_BY) continue;
        const storeId = labels[NAMESPACE_LABELS.storeId];
        found.push({
          name,
          installation: installationId,
          ...(storeId ? { storeId } : {}),
        ...(labels[NAMESPACE_LABELS.store] ? { storeName: labels[NAMESPACE_LABELS.store] } : {}),
          createdAt: new Date(namespace.metadata?.creationTimestamp ?? 0),
          terminating: Boolean(namespace.metadata?.deletionTimestamp) || namespace.status?.phase === 'Terminating',
        });
      }
      page = list.metadata?._continue || undefined;
    } while (page);
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * An existing namespace of the store's name: refused unless it is this store's and this
   * installation's (or from before installations had ids); its labels set to ours (others kept).
   */
  private async adopt(store: StoreRef, labels: Record<string, string>): Promise<void> {
    const { core } = await this.options.apis();
    for (let attempt = 1; ; attempt++) {
      const existing = await core.readNamespace({ name: store.namespace }).catch((error: unknown) => {
        throw apiError(`read namespace ${store.namespace}`, error);
      });
      if (existing.metadata?.deletionTimestamp || existing.status?.phase === 'Terminating') {
        throw new NamespaceTerminatingError(`namespace ${store.namespace} is still terminating; try again once it is gone`);
      }
      const current = existing.metadata?.labels ?? {};
      if (current[NAMESPACE_LABELS.managedBy] !== MANAGED_BY) {
        throw new PermanentDriverError(`namespace ${store.namespace} exists and is not managed by flotilla`);
      }
      const installation = current[INSTALLATION_LABEL];
      if (installation !== undefined && installation !== this.options.ownership.installationId) {
        throw new PermanentDriverError(`namespace ${store.namespace} belongs to installation ${installation}; choose another namespace prefix`);
      }
      const owner = current[NAMESPACE_LABELS.storeId];
      if (owner !== undefined && owner !== store.storeId) {
        throw new PermanentDriverError(`namespace ${store.namespace} belongs to another store (${owner}); remove it first`);
      }
      if (Object.entries(labels).every(([key, value]) => current[key] === value)) return;
      try {
        await core.replaceNamespace({
          name: store.namespace,
          body: { ...existing, metadata: { ...existing.metadata, labels: { ...current, ...labels } } },
        });
        return;
      } catch (error) {
        if (statusCode(error) !== 409 || attempt >= 3) throw apiError(`update namespace ${store.namespace}`, error);
      }
    }
  }
}
