import type { V1Deployment, V1Namespace, V1PersistentVolumeClaim, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { HelmResult, HelmRunner, HelmRunOptions } from '../helm.js';
import type { KubernetesApis } from '../kube-apis.js';

/** Shaped like the client's `ApiException`: an HTTP status in `code`, the server's Status in `body`. */
export class FakeApiException extends Error {
  constructor(
    readonly code: number,
    readonly body: { kind: 'Status'; message: string; reason: string; code: number },
  ) {
    super(`HTTP-Code: ${code}\nMessage: ${body.message}\nBody: ${JSON.stringify(body)}`);
  }
}

export function apiFailure(code: number, message: string): FakeApiException {
  const reason = { 403: 'Forbidden', 404: 'NotFound', 409: 'AlreadyExists', 422: 'Invalid', 500: 'InternalError' }[code] ?? 'Unknown';
  return new FakeApiException(code, { kind: 'Status', message, reason, code });
}

export interface ApiCall {
  method: string;
  param: Record<string, unknown>;
}

type Stored = { metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> } };

/**
 * An in-memory API server for the calls the driver makes: namespaces and namespaced
 * objects with resourceVersions, 404 and 409 as the real one answers them. Every call
 * is recorded; `failNext` makes a method fail once with a given error.
 */
export class FakeKubernetes {
  readonly calls: ApiCall[] = [];
  readonly namespaces = new Map<string, V1Namespace>();
  readonly objects = new Map<string, Stored>();
  pods: V1Pod[] = [];
  /** The clock of `creationTimestamp` and `deletionTimestamp`. */
  clock: () => Date = () => new Date();
  /** A deleted namespace is gone after this many reads of it; undefined: it stays Terminating until `finishTermination`. */
  terminationReads: number | undefined;
  private readonly readsLeft = new Map<string, number>();
  deployments: V1Deployment[] = [];
  /** Secrets and claims as Helm and StatefulSets would leave them; listed by label, patched with JSON patches. */
  secrets: V1Secret[] = [];
  claims: V1PersistentVolumeClaim[] = [];
  private version = 1;
  private readonly failures = new Map<string, unknown[]>();

  /** A terminating namespace is gone. */
  finishTermination(name: string): void {
    this.namespaces.delete(name);
    this.readsLeft.delete(name);
    for (const key of [...this.objects.keys()]) if (key.split('/')[1] === name) this.objects.delete(key);
  }

  failNext(method: string, error: unknown): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  private record(method: string, param: object = {}): void {
    this.calls.push({ method, param: param as Record<string, unknown> });
    const queued = this.failures.get(method);
    if (queued?.length) throw queued.shift();
  }

  private nextVersion(): string {
    return String(this.version++);
  }

  private createIn(kind: string, namespace: string, body: Stored): Stored {
    if (!this.namespaces.has(namespace)) throw apiFailure(404, `namespaces "${namespace}" not found`);
    const key = `${kind}/${namespace}/${body.metadata?.name}`;
    if (this.objects.has(key)) throw apiFailure(409, `${kind} "${body.metadata?.name}" already exists`);
    const stored = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: this.nextVersion() } });
    this.objects.set(key, stored);
    return stored;
  }

  private readIn(kind: string, namespace: string, name: string): Stored {
    const found = this.objects.get(`${kind}/${namespace}/${name}`);
    if (!found) throw apiFailure(404, `${kind} "${name}" not found`);
    return structuredClone(found);
  }

  private replaceIn(kind: string, namespace: string, name: string, body: Stored): Stored {
    const current = this.readIn(kind, namespace, name);
    if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) throw apiFailure(409, `the object has been modified`);
    const stored = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: this.nextVersion() } });
    this.objects.set(`${kind}/${namespace}/${name}`, stored);
    return stored;
  }

  apis(): KubernetesApis {
    const namespaced = (kind: string) => ({
      create: async ({ namespace, body }: { namespace: string; body: Stored }) => {
        this.record(`create${kind}`, { namespace, body });
        return this.createIn(kind, namespace, body) as never;
      },
      read: async ({ namespace, name }: { namespace: string; name: string }) => {
        this.record(`read${kind}`, { namespace, name });
        return this.readIn(kind, namespace, name) as never;
      },
      replace: async ({ namespace, name, body }: { namespace: string; name: string; body: Stored }) => {
        this.record(`replace${kind}`, { namespace, name, body });
        return this.replaceIn(kind, namespace, name, body) as never;
      },
    });
    const quota = namespaced('ResourceQuota');
    const limitRange = namespaced('LimitRange');
    const policy = namespaced('NetworkPolicy');
    const roleBinding = namespaced('RoleBinding');
    return {
      core: {
        createNamespace: async ({ body }) => {
          this.record('createNamespace', { body });
          const name = body.metadata?.name as string;
          if (this.namespaces.has(name)) throw apiFailure(409, `namespaces "${name}" already exists`);
          const stored = structuredClone({
            ...body,
            metadata: { ...body.metadata, resourceVersion: this.nextVersion(), creationTimestamp: this.clock() },
            status: { phase: 'Active' },
          });
          this.namespaces.set(name, stored);
          return structuredClone(stored);
        },
        readNamespace: async ({ name }) => {
          this.record('readNamespace', { name });
          const left = this.readsLeft.get(name);
          if (left !== undefined) {
            if (left <= 0) this.finishTermination(name);
            else this.readsLeft.set(name, left - 1);
          }
          const found = this.namespaces.get(name);
          if (!found) throw apiFailure(404, `namespaces "${name}" not found`);
          return structuredClone(found);
        },
        replaceNamespace: async ({ name, body }) => {
          this.record('replaceNamespace', { name, body });
          const current = this.namespaces.get(name);
          if (!current) throw apiFailure(404, `namespaces "${name}" not found`);
          if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) throw apiFailure(409, 'the object has been modified');
          const stored = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: this.nextVersion() } });
          this.namespaces.set(name, stored);
          return structuredClone(stored);
        },
        deleteNamespace: async ({ name, propagationPolicy }) => {
          this.record('deleteNamespace', { name, propagationPolicy });
          const current = this.namespaces.get(name);
          if (!current) throw apiFailure(404, `namespaces "${name}" not found`);
          current.metadata = { ...current.metadata, deletionTimestamp: this.clock() };
          current.status = { phase: 'Terminating' };
          if (this.terminationReads !== undefined && !this.readsLeft.has(name)) this.readsLeft.set(name, this.terminationReads);
          return { kind: 'Status' };
        },
        listNamespace: async (param = {}) => {
          this.record('listNamespace', param);
          const items = [...this.namespaces.values()].filter((ns) => matches(ns.metadata?.labels, param.labelSelector));
          return { items: structuredClone(items), metadata: {} };
        },
        listNamespacedPod: async (param) => {
          this.record('listNamespacedPod', param);
          return { items: structuredClone(this.pods.filter((pod) => matches(pod.metadata?.labels, param.labelSelector))) };
        },
        deleteNamespacedPod: async ({ name, namespace }) => {
          this.record('deleteNamespacedPod', { name, namespace });
          const index = this.pods.findIndex((pod) => pod.metadata?.name === name);
          if (index < 0) throw apiFailure(404, `pods "${name}" not found`);
          const [pod] = this.pods.splice(index, 1);
          return pod;
        },
        listNamespacedSecret: async (param) => {
          this.record('listNamespacedSecret', param);
          return { items: structuredClone(this.secrets.filter((o) => o.metadata?.namespace === param.namespace && matches(o.metadata?.labels, param.labelSelector))) };
        },
        patchNamespacedSecret: async (param) => {
          this.record('patchNamespacedSecret', param);
          return jsonPatch(this.secrets, param) as never;
        },
        listNamespacedPersistentVolumeClaim: async (param) => {
          this.record('listNamespacedPersistentVolumeClaim', param);
          return { items: structuredClone(this.claims.filter((o) => o.metadata?.namespace === param.namespace && matches(o.metadata?.labels, param.labelSelector))) };
        },
        patchNamespacedPersistentVolumeClaim: async (param) => {
          this.record('patchNamespacedPersistentVolumeClaim', param);
          return jsonPatch(this.claims, param) as never;
        },
        createNamespacedResourceQuota: quota.create,
        readNamespacedResourceQuota: quota.read,
        replaceNamespacedResourceQuota: quota.replace,
        createNamespacedLimitRange: limitRange.create,
        readNamespacedLimitRange: limitRange.read,
        replaceNamespacedLimitRange: limitRange.replace,
      },
      apps: {
        listNamespacedDeployment: async (param) => {
          this.record('listNamespacedDeployment', param);
          return { items: structuredClone(this.deployments.filter((d) => matches(d.metadata?.labels, param.labelSelector))) };
        },
      },
      networking: {
        createNamespacedNetworkPolicy: policy.create,
        readNamespacedNetworkPolicy: policy.read,
        replaceNamespacedNetworkPolicy: policy.replace,
      },
      rbac: {
        createNamespacedRoleBinding: roleBinding.create,
        readNamespacedRoleBinding: roleBinding.read,
        replaceNamespacedRoleBinding: roleBinding.replace,
      },
      version: {
        getCode: async () => {
          this.record('getCode');
          return { major: '1', minor: '30', gitVersion: 'v1.30.0' } as never;
        },
      },
    };
  }
}

/** `a=b,c=d` equality selectors only (what the driver uses). */
function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return labels?.[key] === value;
  });
}

/** JSON patch `add` of labels (`/metadata/labels/{key with ~1 for /}`) to the object `name` of `namespace` in `items`. */
function jsonPatch(items: Stored[], { name, namespace, body }: { name: string; namespace: string; body: unknown }): Stored {
  const target = items.find((o) => o.metadata?.name === name && (o.metadata as { namespace?: string }).namespace === namespace);
  if (!target) throw apiFailure(404, `"${name}" not found`);
  for (const op of body as Array<{ op: string; path: string; value: string }>) {
    const match = /^\/metadata\/labels\/(.+)$/.exec(op.path);
    if (op.op !== 'add' || !match) throw apiFailure(422, `unsupported patch ${JSON.stringify(op)}`);
    if (!target.metadata?.labels) throw apiFailure(422, 'the server rejected our request: /metadata/labels does not exist');
    target.metadata.labels[match[1].replace(/~1/g, '/').replace(/~0/g, '~')] = op.value;
  }
  return structuredClone(target);
}

export interface HelmCall {
  args: string[];
  options: HelmRunOptions;
}

/** Records each Helm run; `respond` decides what the run returns or throws, by its arguments. */
export class FakeHelm implements HelmRunner {
  readonly calls: HelmCall[] = [];
  respond: (args: readonly string[], options: HelmRunOptions) => HelmResult | Promise<HelmResult> = () => ({ stdout: '', stderr: '' });

  async run(args: readonly string[], options: HelmRunOptions): Promise<HelmResult> {
    this.calls.push({ args: [...args], options });
    return this.respond(args, options);
  }
}
