import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreTemplates, type StoreTemplate } from '@flotilla/contracts';
import type { AppSettings } from '../../services/provisioner/src/drivers/cluster-driver.js';
import { STORE_SECRET_KEYS, storeValues } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { helm } from './support/helm.js';
import { byKind, parseManifests, podSpec, type K8sObject } from './support/manifests.js';
import { ROOT } from './support/paths.js';

/*
 * docs/STORE-SPEC.md: a store spec's env and probes reach the app container of every
 * revision in both store charts, through the values the provisioner writes (storeValues);
 * without them each chart keeps its own probes.
 */

const VERSION: Record<StoreTemplate, string> = { wordpress: '6.6', medusa: '2.8.4' };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'store-spec-chart-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function render(template: StoreTemplate, app?: AppSettings): K8sObject[] {
  const values = storeValues(
    template,
    {
      host: 'shop.stores.example.com',
      secrets: Object.fromEntries(STORE_SECRET_KEYS[template].map((key) => [key, `${key}-0123456789abcdef`])),
      revisions: [
        { revision: 1, version: VERSION[template], replicas: 2, weight: 90 },
        { revision: 2, version: VERSION[template], replicas: 1, weight: 10 },
      ],
      ...(app ? { app } : {}),
    },
    { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx' },
  );
  const file = join(work, `${template}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(values));
  const result = helm(['template', 'shop', join(ROOT, 'deploy/store-charts', template), '--namespace', 'store-shop', '--values', file]);
  if (result.status !== 0) throw new Error(`helm template ${template} failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const appContainers = (objects: K8sObject[]): any[] => byKind(objects, 'Deployment').filter((d) => d.metadata.name.includes('-r')).map((d) => podSpec(d).containers[0]);

describe.each(StoreTemplates)('the %s chart with a store spec', (template) => {
  it('renders the spec env after its own, and the spec probes in place of its own', () => {
    const containers = appContainers(
      render(template, {
        env: [{ name: 'WP_DEBUG', value: 'false' }, { name: 'FEATURE_X', value: 'on: yes' }],
        readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/alive', port: 8080 }, periodSeconds: 10, failureThreshold: 4 },
      }),
    );
    expect(containers).toHaveLength(2);
    for (const container of containers) {
      const env = container.env as { name: string; value?: string }[];
      expect(env.slice(-2)).toEqual([{ name: 'WP_DEBUG', value: 'false' }, { name: 'FEATURE_X', value: 'on: yes' }]);
      expect(env.length).toBeGreaterThan(2);
      expect(container.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 });
      expect(container.livenessProbe).toEqual({ httpGet: { path: '/alive', port: 8080 }, periodSeconds: 10, failureThreshold: 4 });
    }
  });

  it('keeps its own probes and env without one', () => {
    const plain = appContainers(render(template));
    const empty = appContainers(render(template, { env: [] }));
    expect(empty).toEqual(plain);
    for (const container of plain) {
      expect(container.readinessProbe.httpGet.port).toBe('http');
      expect(container.readinessProbe.failureThreshold).toBe(3);
      expect(container.livenessProbe.timeoutSeconds).toBe(5);
    }
  });

  it('refuses values whose env is not plain name and value', () => {
    const values = storeValues(
      template,
      {
        host: 'shop.stores.example.com',
        secrets: Object.fromEntries(STORE_SECRET_KEYS[template].map((key) => [key, `${key}-0123456789abcdef`])),
        revisions: [{ revision: 1, version: VERSION[template], replicas: 1, weight: 100 }],
        app: { env: [{ name: 'BAD NAME', value: 'x' }] },
      },
      { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx' },
    );
    const file = join(work, `${template}-bad.json`);
    writeFileSync(file, JSON.stringify(values));
    const result = helm(['template', 'shop', join(ROOT, 'deploy/store-charts', template), '--namespace', 'store-shop', '--values', file]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('spec.env.0.name');
  });
});
