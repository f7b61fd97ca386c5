import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubernetesApis } from './kube-apis.js';
import { labelReleaseObjects } from './release-labels.js';

/*
 * The installation label on Helm's release Secrets and the volume claims, on the wire:
 * through @kubernetes/client-node to a local server answering as the API server does.
 * A JSON patch needs its own content type; anything else is refused by a real server.
 */

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

let server: Server;
let dir: string;
let kubeconfig: string;
const seen: Seen[] = [];

const helmSecret = (name: string, labels: Record<string, string>) => ({ metadata: { name, namespace: 'store-shop-one', labels } });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      seen.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], body: raw ? JSON.parse(raw) : undefined });
      let body: unknown = { kind: 'Status', code: 404 };
      let code = 200;
      if (req.method === 'GET' && url.pathname === '/api/v1/namespaces/store-shop-one/secrets') {
        body = {
          kind: 'SecretList',
          items: [helmSecret('sh.helm.release.v1.shop-one.v1', { owner: 'helm', name: 'shop-one' }), helmSecret('sh.helm.release.v1.shop-one.v2', { owner: 'helm', name: 'shop-one', 'flotilla.io/installation': 'dev-a' })],
        };
      } else if (req.method === 'GET' && url.pathname === '/api/v1/namespaces/store-shop-one/persistentvolumeclaims') {
        body = { kind: 'PersistentVolumeClaimList', items: [helmSecret('data-shop-one-mariadb-0', { 'app.kubernetes.io/instance': 'shop-one' })] };
      } else if (req.method === 'PATCH') {
        body = { metadata: { name: url.pathname.split('/').pop() } };
      } else {
        code = 404;
      }
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'flotilla-kube-labels-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
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

describe('labelReleaseObjects through @kubernetes/client-node', () => {
  it('lists the release Secrets and claims by label and JSON-patches only the unlabelled ones', async () => {
    const { core } = await loadKubernetesApis(kubeconfig);
    await labelReleaseObjects(core, 'store-shop-one', 'shop-one', 'dev-a');

    expect(seen.filter((s) => s.method === 'GET').map((s) => [s.path, s.query.labelSelector])).toEqual([
      ['/api/v1/namespaces/store-shop-one/secrets', 'owner=helm,name=shop-one'],
      ['/api/v1/namespaces/store-shop-one/persistentvolumeclaims', 'app.kubernetes.io/instance=shop-one'],
    ]);
    const patch = [{ op: 'add', path: '/metadata/labels/flotilla.io~1installation', value: 'dev-a' }];
    expect(seen.filter((s) => s.method === 'PATCH').map(({ path, contentType, body }) => ({ path, contentType, body }))).toEqual([
      { path: '/api/v1/namespaces/store-shop-one/secrets/sh.helm.release.v1.shop-one.v1', contentType: 'application/json-patch+json', body: patch },
      { path: '/api/v1/namespaces/store-shop-one/persistentvolumeclaims/data-shop-one-mariadb-0', contentType: 'application/json-patch+json', body: patch },
    ]);
  });
});
