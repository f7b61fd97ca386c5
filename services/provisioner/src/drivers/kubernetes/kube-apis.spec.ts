import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NAMESPACE_LIMITS, PermanentDriverError, type StoreRef } from '../cluster-driver.js';
import { loadClient } from './kube-apis.js';
import { KubernetesDriver } from './kubernetes-driver.js';
import { FakeHelm } from './testing/fakes.js';

/*
 * The driver with the real @kubernetes/client-node, loaded from a kubeconfig, talking
 * HTTP to a local server that answers as the API server does. What is checked is the
 * wire: paths, query strings, JSON bodies, and the client's errors as the driver sees them.
 */

interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Handler = (request: Request) => { status: number; body: unknown } | undefined;

let server: Server;
let dir: string;
let kubeconfig: string;
let requests: Request[];
let handler: Handler;

const status = (code: number, reason: string, message: string) => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message } });

const store: StoreRef = {
  storeId: '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11',
  name: 'shop-one',
  namespace: 'store-shop-one',
  teamId: '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  template: 'medusa',
};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const request: Request = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body: raw ? JSON.parse(raw) : undefined };
      requests.push(request);
      const answer = handler(request) ?? status(404, 'NotFound', `${url.pathname} not found`);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'flotilla-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP: the client allows it only with TLS verification off.
      clusters: [{ name: 'local', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'provisioner', user: { token: 'test-token' } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'provisioner' } }],
      'current-context': 'local',
    }),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
  handler = () => undefined;
});

const driver = (): KubernetesDriver =>
  new KubernetesDriver({ kubeconfigPath: kubeconfig, chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx' }, { helm: new FakeHelm() });

describe('a client that cannot be loaded', () => {
  it('names the import failure it wraps', async () => {
    const error = await loadClient(() => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'bind')"))).catch((e: unknown) => e);
    expect(String(error)).toContain("cannot be loaded on Node");
    expect(String(error)).toContain("Cannot read properties of undefined (reading 'bind')");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });
});

describe('the driver through @kubernetes/client-node', () => {
  it('binds the provisioner in the new namespace before its quota, and stops on a refused binding', async () => {
    const access = { serviceAccountName: 'flotilla-provisioner', serviceAccountNamespace: 'flotilla-prod', clusterRoleName: 'flotilla-prod-flotilla-provisioner-store-operator' };
    const bound = (): KubernetesDriver =>
      new KubernetesDriver({ kubeconfigPath: kubeconfig, chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx', storeAccess: access }, { helm: new FakeHelm() });
    handler = (request) => (request.method === 'POST' ? { status: 201, body: { ...(request.body as object), metadata: { ...(request.body as { metadata: object }).metadata, resourceVersion: '1' } } } : undefined);

    await bound().ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    expect(requests.slice(0, 3).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/namespaces',
      'POST /apis/rbac.authorization.k8s.io/v1/namespaces/store-shop-one/rolebindings',
      'POST /api/v1/namespaces/store-shop-one/resourcequotas',
    ]);
    expect(requests[1].body).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'flotilla-store-operator',
        namespace: 'store-shop-one',
        labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.io/store': 'shop-one', 'flotilla.io/installation': 'flotilla' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flotilla-prod-flotilla-provisioner-store-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'flotilla-provisioner', namespace: 'flotilla-prod' }],
    });

    requests = [];
    handler = (request) =>
      request.path.endsWith('/rolebindings')
        ? status(403, 'Forbidden', 'rolebindings.rbac.authorization.k8s.io is forbidden: user cannot bind clusterrole')
        : request.method === 'POST'
          ? { status: 201, body: request.body }
          : undefined;
    const error = await bound().ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDriverError);
    expect(String(error)).toContain('cannot bind clusterrole');
    expect(requests.map((r) => r.path)).not.toContain('/api/v1/namespaces/store-shop-one/resourcequotas');
  });

  it('creates the namespace and its objects with the bodies the API expects', async () => {
    handler = (request) => (request.method === 'POST' ? { status: 201, body: { ...(request.body as object), metadata: { ...(request.body as { metadata: object }).metadata, resourceVersion: '1' } } } : undefined);

    await driver().ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);

    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/namespaces',
      'POST /api/v1/namespaces/store-shop-one/resourcequotas',
      'POST /api/v1/namespaces/store-shop-one/limitranges',
      'POST /apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies',
      'POST /apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies',
      'POST /apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies',
    ]);
    expect(requests[0].body).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'store-shop-one',
        labels: {
          'app.kubernetes.io/managed-by': 'flotilla',
          'flotilla.io/store': 'shop-one',
          'flotilla.io/installation': 'flotilla',
          'flotilla.io/store-id': store.storeId,
          'flotilla.io/team': store.teamId,
          'flotilla.io/template': 'medusa',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'latest',
        },
      },
    });
    // The client's models spell `default` and `from` with an underscore; the wire must not.
    expect(requests[2].body).toMatchObject({ spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }] } });
    expect(JSON.stringify(requests[2].body)).not.toContain('_default');
    expect(requests[4].body).toMatchObject({
      metadata: { name: 'allow-ingress-controller' },
      spec: { ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] }] },
    });
    expect(requests[5].body).toMatchObject({ spec: { egress: [{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }] } });
  });

  it('on 409 reads the object and replaces it at its resourceVersion', async () => {
    handler = (request) => {
      if (request.method === 'POST') return status(409, 'AlreadyExists', 'already exists');
      if (request.method === 'GET' && request.path === '/api/v1/namespaces/store-shop-one') {
        return { status: 200, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'store-shop-one', resourceVersion: '41', labels: { 'app.kubernetes.io/managed-by': 'flotilla' } }, status: { phase: 'Active' } } };
      }
      if (request.method === 'GET') return { status: 200, body: { metadata: { name: request.path.split('/').pop(), resourceVersion: '77' } } };
      if (request.method === 'PUT') return { status: 200, body: request.body };
      return undefined;
    };

    await driver().ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);

    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/store-shop-one',
      '/api/v1/namespaces/store-shop-one/resourcequotas/store-quota',
      '/api/v1/namespaces/store-shop-one/limitranges/store-limits',
      '/apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies/default-deny',
      '/apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies/allow-ingress-controller',
      '/apis/networking.k8s.io/v1/namespaces/store-shop-one/networkpolicies/allow-dns',
    ]);
    expect(puts[0].body).toMatchObject({ metadata: { resourceVersion: '41', labels: { 'flotilla.io/store': 'shop-one' } } });
    expect(puts[1].body).toMatchObject({ metadata: { resourceVersion: '77' }, spec: { hard: { pods: '20' } } });
  });

  it('turns the API server\'s 403 into PermanentDriverError with its message', async () => {
    handler = () => status(403, 'Forbidden', 'namespaces is forbidden: User "system:serviceaccount:flotilla:provisioner" cannot create resource "namespaces"');
    const error = await driver().ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDriverError);
    expect((error as Error).message).toBe(
      'create namespace store-shop-one failed (HTTP 403): namespaces is forbidden: User "system:serviceaccount:flotilla:provisioner" cannot create resource "namespaces"',
    );
  });

  it('observes pods with the label selector, reading startTime and conditions from JSON', async () => {
    handler = (request) => {
      if (request.path === '/api/v1/namespaces/store-shop-one') return { status: 200, body: { metadata: { name: 'store-shop-one' } } };
      if (request.path === '/apis/apps/v1/namespaces/store-shop-one/deployments') {
        return {
          status: 200,
          body: {
            kind: 'DeploymentList',
            items: [
              {
                metadata: { name: 'shop-one-r3', labels: { 'flotilla.io/revision': '3' }, annotations: { 'flotilla.io/version': '2.8.4', 'flotilla.io/weight': '100' } },
                spec: { replicas: 2, selector: {}, template: { spec: { containers: [{ name: 'medusa', image: 'ghcr.io/flotilla/medusa-store:2.8.4' }] } } },
              },
            ],
          },
        };
      }
      if (request.path === '/api/v1/namespaces/store-shop-one/pods') {
        return {
          status: 200,
          body: {
            kind: 'PodList',
            items: [
              {
                metadata: { name: 'shop-one-r3-abc', labels: { 'flotilla.io/revision': '3' } },
                status: {
                  phase: 'Running',
                  startTime: '2030-02-03T04:05:06Z',
                  conditions: [{ type: 'Ready', status: 'True' }],
                  containerStatuses: [{ name: 'medusa', image: 'x', imageID: '', ready: true, restartCount: 3 }],
                },
              },
            ],
          },
        };
      }
      return undefined;
    };

    const observed = await driver().observe(store);

    expect(observed).toEqual({
      namespaceExists: true,
      revisions: [{ revision: 3, version: '2.8.4', replicas: 2, weight: 100 }],
      pods: [{ name: 'shop-one-r3-abc', phase: 'Running', ready: true, restarts: 3, revision: 3, startedAt: '2030-02-03T04:05:06.000Z' }],
    });
    const pods = requests.find((r) => r.path.endsWith('/pods'));
    expect(pods?.query).toEqual({ labelSelector: 'flotilla.io/store=shop-one,app.kubernetes.io/component=app' });
  });

  it('reports a namespace that is not there (404)', async () => {
    expect(await driver().observe(store)).toEqual({ namespaceExists: false, revisions: [], pods: [] });
  });

  it('deletes the namespace in the foreground and waits for its 404', async () => {
    let reads = 0;
    handler = (request) => {
      if (request.method === 'DELETE') return { status: 200, body: { kind: 'Status', status: 'Success' } };
      if (request.method === 'GET' && ++reads < 2) return { status: 200, body: { metadata: { name: 'store-shop-one', deletionTimestamp: '2030-01-01T00:00:00Z' }, status: { phase: 'Terminating' } } };
      return undefined;
    };
    const removing = new KubernetesDriver(
      { kubeconfigPath: kubeconfig, chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx', namespaceDeletePollMs: 10 },
      { helm: new FakeHelm() },
    );

    await removing.remove(store);

    expect(requests[0]).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/store-shop-one', query: { propagationPolicy: 'Foreground' } });
    expect(reads).toBe(2);
  });

  it('lists store namespaces page by page, following the continue token', async () => {
    handler = (request) => {
      if (request.path !== '/api/v1/namespaces') return undefined;
      const ns = (name: string) => ({ metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.io/installation': 'flotilla' } } });
      return request.query.continue === 'page-2'
        ? { status: 200, body: { kind: 'NamespaceList', items: [ns('store-b')], metadata: {} } }
        : { status: 200, body: { kind: 'NamespaceList', items: [ns('store-c'), ns('store-a')], metadata: { continue: 'page-2' } } };
    };

    expect((await driver().listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-a', 'store-b', 'store-c']);
    expect(requests.map((r) => r.query)).toEqual([
      { labelSelector: 'app.kubernetes.io/managed-by=flotilla,flotilla.io/installation=flotilla', limit: '500' },
      { labelSelector: 'app.kubernetes.io/managed-by=flotilla,flotilla.io/installation=flotilla', limit: '500', continue: 'page-2' },
    ]);
  });

  it('checks /version and a one-namespace list, sending the kubeconfig token', async () => {
    const seen: string[] = [];
    handler = (request) => {
      seen.push(`${request.path}?${new URLSearchParams(request.query)}`);
      if (request.path === '/version') return { status: 200, body: { major: '1', minor: '30', gitVersion: 'v1.30.2' } };
      if (request.path === '/api/v1/namespaces') return { status: 200, body: { kind: 'NamespaceList', items: [], metadata: {} } };
      return undefined;
    };
    let authorization: string | undefined;
    server.once('request', (req: IncomingMessage) => (authorization = req.headers.authorization));

    await driver().check();

    expect(seen).toEqual(['/version?', '/api/v1/namespaces?limit=1']);
    expect(authorization).toBe('Bearer test-token');
  });

  it('fails check when nothing answers', async () => {
    const { port } = server.address() as AddressInfo;
    const dead = join(dir, 'dead-kubeconfig');
    writeFileSync(dead, readFileSync(kubeconfig, 'utf8').replace(`127.0.0.1:${port}`, '127.0.0.1:1'));
    const unreachable = new KubernetesDriver({ kubeconfigPath: dead, chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx' }, { helm: new FakeHelm() });
    const error = await unreachable.check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentDriverError);
    expect(String(error)).toMatch(/reach the Kubernetes API failed/);
  });
});
