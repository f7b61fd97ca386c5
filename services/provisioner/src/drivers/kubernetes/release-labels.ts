import { INSTALLATION_LABEL } from '../ownership.js';
import { apiMessage, statusCode, type KubernetesApis } from './kube-apis.js';

interface Labelled {
  metadata?: { name?: string; labels?: { [key: string]: string } };
}

/**
 * Puts the installation's label on what a store release holds that the chart cannot
 * label: Helm's release Secrets (`sh.helm.release.v1.{release}.v{n}`; the pinned Helm has
 * no `--labels`, and rewrites a revision's labels when it supersedes it) and the
 * databases' PersistentVolumeClaims (made from volume claim templates, which cannot
 * change in an existing StatefulSet). A JSON patch adds the one label, nothing else.
 * A failure is worth retrying (the release itself is in place), never final; an object
 * gone since the listing (a pruned revision) is skipped.
 */
export async function labelReleaseObjects(core: KubernetesApis['core'], namespace: string, release: string, installationId: string): Promise<void> {
  const patch = [{ op: 'add', path: `/metadata/labels/${INSTALLATION_LABEL.replace('/', '~1')}`, value: installationId }];
  const secrets = await core.listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${release}` }).catch((error: unknown) => {
    throw retryable(`list release secrets ${namespace}/${release}`, error);
  });
  const claims = await core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` }).catch((error: unknown) => {
    throw retryable(`list volume claims ${namespace}/${release}`, error);
  });
  for (const secret of unlabelled(secrets.items, installationId)) {
    await core.patchNamespacedSecret({ name: secret, namespace, body: patch }).catch((error: unknown) => {
      if (statusCode(error) !== 404) throw retryable(`label secret ${namespace}/${secret}`, error);
    });
  }
  for (const claim of unlabelled(claims.items, installationId)) {
    await core.patchNamespacedPersistentVolumeClaim({ name: claim, namespace, body: patch }).catch((error: unknown) => {
      if (statusCode(error) !== 404) throw retryable(`label volume claim ${namespace}/${claim}`, error);
    });
  }
}

function unlabelled(items: Labelled[], installationId: string): string[] {
  return items.filter((item) => item.metadata?.labels?.[INSTALLATION_LABEL] !== installationId && item.metadata?.name).map((item) => item.metadata?.name as string);
}

function retryable(operation: string, error: unknown): Error {
  return new Error(`${operation} failed${statusCode(error) ? ` (HTTP ${statusCode(error)})` : ''}: ${apiMessage(error)}`, { cause: error });
}
