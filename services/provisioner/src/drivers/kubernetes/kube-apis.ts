import type { AppsV1Api, CoreV1Api, NetworkingV1Api, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';

/** The calls of `@kubernetes/client-node` the driver makes; tests pass fakes with the same shapes. */
export interface KubernetesApis {
  core: Pick<
    CoreV1Api,
    | 'createNamespace'
    | 'readNamespace'
    | 'replaceNamespace'
    | 'deleteNamespace'
    | 'listNamespace'
    | 'listNamespacedPod'
    | 'deleteNamespacedPod'
    | 'createNamespacedResourceQuota'
    | 'readNamespacedResourceQuota'
    | 'replaceNamespacedResourceQuota'
    | 'createNamespacedLimitRange'
    | 'readNamespacedLimitRange'
    | 'replaceNamespacedLimitRange'
    | 'listNamespacedSecret'
    | 'patchNamespacedSecret'
    | 'listNamespacedPersistentVolumeClaim'
    | 'patchNamespacedPersistentVolumeClaim'
  >;
  apps: Pick<AppsV1Api, 'listNamespacedDeployment'>;
  networking: Pick<NetworkingV1Api, 'createNamespacedNetworkPolicy' | 'readNamespacedNetworkPolicy' | 'replaceNamespacedNetworkPolicy'>;
  /** The provisioner's RoleBinding in each store namespace (store-access.ts). */
  rbac: Pick<RbacAuthorizationV1Api, 'createNamespacedRoleBinding' | 'readNamespacedRoleBinding' | 'replaceNamespacedRoleBinding'>;
  version: Pick<VersionApi, 'getCode'>;
}

/**
 * Clients for the cluster of `kubeconfigPath`, or without one the default configuration
 * (`$KUBECONFIG`, `~/.kube/config`, then the in-cluster service account). The client
 * library is loaded here, on first use, not when the driver's module is imported.
 */
export async function loadKubernetesApis(kubeconfigPath?: string): Promise<KubernetesApis> {
  const k8s = await loadClient();
  const config = new k8s.KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  if (!config.getCurrentCluster()) throw new Error(`no Kubernetes cluster in ${kubeconfigPath ?? 'the default kubeconfig or the in-cluster configuration'}`);
  return {
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    networking: config.makeApiClient(k8s.NetworkingV1Api),
    rbac: config.makeApiClient(k8s.RbacAuthorizationV1Api),
    version: config.makeApiClient(k8s.VersionApi),
  };
}

/**
 * The client library, loaded on first use (the simulated driver never needs it), or an
 * error naming why it cannot be loaded.
 */
export async function loadClient(load: () => Promise<typeof import('@kubernetes/client-node')> = () => import('@kubernetes/client-node')): Promise<typeof import('@kubernetes/client-node')> {
  try {
    return await load();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `the Kubernetes client (@kubernetes/client-node) cannot be loaded on Node ${process.versions.node}: ${reason}`,
      { cause: error },
    );
  }
}

/** The HTTP status of a failed API call (`ApiException.code`), if it has one. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message (`Status.message`) of a failed call, else the error's message. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && message) return message;
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
