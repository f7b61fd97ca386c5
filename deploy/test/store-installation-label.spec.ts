import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreTemplate } from '@flotilla/contracts';
import { STORE_SECRET_KEYS, storeValues } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { helm, helmTemplate } from './support/helm.js';
import type { K8sObject } from './support/manifests.js';
import { ROOT } from './support/paths.js';

/*
 * Several installations share one cluster: every object a store chart renders carries the
 * installation's id (value `installation`, label `flotilla.io/installation`), its pod
 * templates too, so an installation can tell its objects from another's. Not the
 * StatefulSets' volume claim templates: the API refuses any change to them, so giving an
 * existing store the label there would fail its next upgrade.
 */

const LABEL = 'flotilla.io/installation';
const VERSIONS: Record<StoreTemplate, [string, string]> = { wordpress: ['6.6', '6.6.1'], medusa: ['2.8.4', '2.8.5'] };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'store-installation-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The values the driver passes during a canary (main, canary and, with `preview`, a weight-0 revision), with every optional object switched on. */
function valuesFile(template: StoreTemplate, installation: unknown): string {
  const secrets = Object.fromEntries(STORE_SECRET_KEYS[template].map((key) => [key, `${key}-0123456789abcdef`]));
  const [v1, v2] = VERSIONS[template];
  const values = storeValues(
    template,
    {
      host: 'shop-one.stores.example.com',
      secrets,
      revisions: [
        { revision: 1, version: v1, replicas: 2, weight: 90 },
        { revision: 2, version: v2, replicas: 1, weight: 10 },
      ],
    },
    { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx', chartValues: { wordpress: { uploads: { persistence: { enabled: true } } } } },
  );
  const file = join(work, `${template}-${String(installation)}.json`);
  writeFileSync(file, JSON.stringify({ ...values, ...(installation === undefined ? {} : { installation }) }));
  return file;
}

/** Every place of `o` that must carry the label: its own labels and its pod template's. */
function missingLabel(o: K8sObject, id: string): string[] {
  const where = `${o.kind} ${o.metadata.name}`;
  const missing: string[] = [];
  if (o.metadata.labels?.[LABEL] !== id) missing.push(where);
  const template = o.spec?.template ?? o.spec?.jobTemplate?.spec?.template;
  if (template && template.metadata?.labels?.[LABEL] !== id) missing.push(`${where} pod template`);
  return missing;
}

describe.each(['wordpress', 'medusa'] as const)('the %s store chart with an installation id', (template) => {
  const chart = join(ROOT, 'deploy/store-charts', template);

  it('labels every rendered object and pod template with it', () => {
    const objects = helmTemplate(chart, valuesFile(template, 'dev-a'), 'store-shop-one');
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Deployment', 'StatefulSet', 'Job', 'Service', 'Ingress', 'Secret', 'NetworkPolicy', 'PodDisruptionBudget']) expect([kind, kinds.has(kind)]).toEqual([kind, true]);
    expect(objects.flatMap((o) => missingLabel(o, 'dev-a'))).toEqual([]);
  });

  it('keeps selectors free of it (a Deployment selector cannot change once created)', () => {
    const objects = helmTemplate(chart, valuesFile(template, 'dev-a'), 'store-shop-one');
    const selectors = objects.map((o) => JSON.stringify(o.spec?.selector ?? {}));
    expect(selectors.filter((s) => s.includes(LABEL))).toEqual([]);
  });

  it('leaves volume claim templates as they were without it (they are immutable in an existing StatefulSet)', () => {
    const claims = (objects: K8sObject[]): string[] => objects.filter((o) => o.kind === 'StatefulSet').map((o) => JSON.stringify(o.spec.volumeClaimTemplates));
    const before = claims(helmTemplate(chart, valuesFile(template, undefined), 'store-shop-one'));
    expect(before.length).toBeGreaterThan(0);
    expect(claims(helmTemplate(chart, valuesFile(template, 'dev-a'), 'store-shop-one'))).toEqual(before);
  });

  it('renders without it, and then without the label', () => {
    const objects = helmTemplate(chart, valuesFile(template, undefined), 'store-shop-one');
    expect(objects.filter((o) => o.metadata.labels?.[LABEL] !== undefined).map((o) => o.metadata.name)).toEqual([]);
  });

  it.each(['Dev-A', 'dev_a', '-dev', 'dev-', 'a'.repeat(64), 'a.b', '', 7])('refuses the installation %j by its schema', (bad) => {
    const result = helm(['template', 'flotilla', chart, '--namespace', 'store-shop-one', '--values', valuesFile(template, bad)]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/installation/);
  });
});
