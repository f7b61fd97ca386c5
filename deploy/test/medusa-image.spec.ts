import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { STORE_SECRET_KEYS } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { helm, helmTemplate } from './support/helm.js';
import { parseManifests, podSpec, type K8sObject } from './support/manifests.js';
import { CHART, ROOT } from './support/paths.js';

/*
 * The medusa store chart runs the image built from deploy/store-images/medusa: the tag CI
 * gives it, the port, the probe path, the user and the environment must agree between the
 * Dockerfile, the Medusa project, the chart and the provisioner's default version.
 */

const IMAGE_DIR = join(ROOT, 'deploy/store-images/medusa');
const CHART_DIR = join(ROOT, 'deploy/store-charts/medusa');
const dockerfile = readFileSync(join(IMAGE_DIR, 'Dockerfile'), 'utf8');
const project = JSON.parse(readFileSync(join(IMAGE_DIR, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { image: { repository: string }; app: { port: number; runAsUser: number } };

/** The medusa chart rendered as the provisioner installs a store of `version`. */
function renderStore(version: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'medusa-image-'));
  try {
    const file = join(dir, 'values.json');
    const secrets = Object.fromEntries(STORE_SECRET_KEYS.medusa.map((key) => [key, `${key}-0123456789abcdef`]));
    writeFileSync(file, JSON.stringify({ host: 'shop.stores.example.com', secrets, revisions: [{ revision: 1, version, replicas: 1, weight: 100 }] }));
    const result = helm(['template', 'shop', CHART_DIR, '--namespace', 'store-shop', '--values', file]);
    if (result.status !== 0) throw new Error(result.stderr);
    return parseManifests(result.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Medusa image and the medusa store chart', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = renderStore(project.version);
  });
  const app = () => podSpec(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'shop-r1')!);

  it('is tagged with the Medusa version the project pins, the version new stores get', () => {
    expect(project.dependencies['@medusajs/medusa']).toBe(project.version);
    const config = helmTemplate(CHART, join(CHART, 'values.yaml'), 'flotilla').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'flotilla-provisioner')!.data as Record<string, string>;
    expect(config.MEDUSA_DEFAULT_VERSION).toBe(project.version);
    expect(app().containers[0].image).toBe(`${values.image.repository}:${project.version}`);
  });

  it('is built by CI with the chart’s repository and that version as its tag', () => {
    const workflow = parse(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }> };
    const builds = Object.values(workflow.jobs).flatMap((job) => job.steps).filter((step) => step.uses?.startsWith('docker/build-push-action') && step.with?.context === 'deploy/store-images/medusa');
    expect(builds).toHaveLength(1);
    expect(String(builds[0].with?.tags)).toBe(`${values.image.repository}:\${{ steps.version.outputs.version }}`);
  });

  it('exposes the port the chart serves, with the probe path of its HEALTHCHECK', () => {
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${values.app.port}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^ENV [\\s\\S]*PORT=${values.app.port}\\b`, 'm'));
    const healthcheck = /^HEALTHCHECK [\s\S]*?CMD \[.*'(\/[\w/]*)'\)/m.exec(dockerfile);
    expect(healthcheck?.[1]).toBe('/health');
    const container = app().containers[0];
    expect(container.ports).toEqual([{ name: 'http', containerPort: values.app.port, protocol: 'TCP' }]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet).toEqual({ path: healthcheck?.[1], port: 'http' });
  });

  it('runs as the non-root user the chart expects, Medusa’s production server', () => {
    expect(dockerfile).toMatch(new RegExp(`^USER ${values.app.runAsUser}:${values.app.runAsUser}$`, 'm'));
    expect(values.app.runAsUser).not.toBe(0);
    expect(dockerfile).toMatch(/^CMD \["node_modules\/\.bin\/medusa", "start"\]$/m);
    expect(app().securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: values.app.runAsUser });
  });

  it('runs the Medusa 2 migrations before the server starts', () => {
    expect(app().initContainers[0].command).toEqual(['npx', 'medusa', 'db:migrate']);
  });

  it('pins its base image and every package exactly', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[\w-]+$/m);
    for (const [name, version] of Object.entries({ ...project.dependencies, ...project.devDependencies })) expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+$/);
  });

  it('reads no variable the chart does not give it', () => {
    const config = readFileSync(join(IMAGE_DIR, 'medusa-config.ts'), 'utf8');
    const read = new Set([...config.matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]));
    const given = new Set((app().containers[0].env as { name: string }[]).map((e) => e.name));
    const optional = new Set(['DISABLE_MEDUSA_ADMIN']); // unset: the admin dashboard is served
    expect([...read].filter((name) => !given.has(name) && !optional.has(name))).toEqual([]);
  });
});
