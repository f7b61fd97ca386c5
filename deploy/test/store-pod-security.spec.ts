import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreTemplate } from '@flotilla/contracts';
import { STORE_SECRET_KEYS, storeValues } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { helmTemplate } from './support/helm.js';
import { podSpec, type K8sObject } from './support/manifests.js';
import { ROOT } from './support/paths.js';
import { restrictedViolations } from './support/pod-security.js';

/*
 * Store namespaces are labelled Pod Security `restricted` (enforce): a store chart whose
 * pods break it would never start. Each chart is rendered as the driver installs it (its
 * values from storeValues), during a blue/green rollout so both revisions' pods are there.
 */

const VERSIONS: Record<StoreTemplate, [string, string]> = { wordpress: ['6.6', '6.6.1'], medusa: ['2.8.4', '2.8.5'] };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'store-pss-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function render(template: StoreTemplate): K8sObject[] {
  const secrets = Object.fromEntries(STORE_SECRET_KEYS[template].map((key) => [key, `${key}-0123456789abcdef`]));
  const [v1, v2] = VERSIONS[template];
  const values = storeValues(
    template,
    {
      host: 'shop-one.stores.example.com',
      secrets,
      revisions: [
        { revision: 1, version: v1, replicas: 2, weight: 100 },
        { revision: 2, version: v2, replicas: 2, weight: 0 },
      ],
    },
    { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx' },
  );
  const file = join(work, `${template}.json`);
  writeFileSync(file, JSON.stringify(values));
  return helmTemplate(join(ROOT, 'deploy/store-charts', template), file, 'store-shop-one');
}

describe.each(['wordpress', 'medusa'] as const)('the %s store chart under Pod Security restricted', (template) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(template);
  });

  it('renders workloads for both revisions, the database and the install Job', () => {
    const count = (kind: string): number => objects.filter((o) => o.kind === kind && podSpec(o)).length;
    expect({ Deployment: count('Deployment') >= 2, StatefulSet: count('StatefulSet') >= 1, Job: count('Job') >= 1 }).toEqual({ Deployment: true, StatefulSet: true, Job: true });
  });

  it('gives every pod what restricted requires', () => {
    expect(restrictedViolations(objects)).toEqual([]);
  });
});

describe('the restricted check itself', () => {
  const pod = (podSecurity: object, container: object, extra: object = {}): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { template: { spec: { securityContext: podSecurity, containers: [{ name: 'c', securityContext: container }], ...extra } } },
  });
  const good = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

  it('passes a compliant pod and names each thing a non-compliant one breaks', () => {
    expect(restrictedViolations([pod({}, good)])).toEqual([]);
    expect(restrictedViolations([pod({}, { ...good, allowPrivilegeEscalation: undefined })])).toEqual(['Deployment x container c: allowPrivilegeEscalation is not false']);
    expect(restrictedViolations([pod({}, { ...good, runAsNonRoot: undefined })])).toEqual(['Deployment x container c: runAsNonRoot is not true']);
    expect(restrictedViolations([pod({ runAsNonRoot: true }, { ...good, runAsNonRoot: undefined })])).toEqual([]);
    expect(restrictedViolations([pod({}, { ...good, seccompProfile: undefined })])).toEqual(['Deployment x container c: seccompProfile unset']);
    expect(restrictedViolations([pod({}, { ...good, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } })])).toEqual(['Deployment x container c: adds capability NET_ADMIN']);
    expect(restrictedViolations([pod({}, good, { hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }] })])).toEqual([
      'Deployment x: hostNetwork',
      'Deployment x: volume h of type hostPath',
    ]);
  });
});
