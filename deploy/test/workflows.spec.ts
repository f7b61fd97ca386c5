import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from './support/manifests.js';
import { ROOT, SERVICES, VALUES_FILES } from './support/paths.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  'runs-on': string;
  'timeout-minutes'?: number;
  services?: Record<string, { image: string }>;
  strategy?: { matrix: Record<string, unknown[]> };
  steps: Step[];
  environment?: string | { name: string };
}
interface Workflow {
  name: string;
  env?: Record<string, string>;
  on: unknown;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const DIR = join(ROOT, '.github/workflows');
const load = (file: string): Workflow => readYaml<Workflow>(join(DIR, file));
const scripts = (job: Job): string => job.steps.map((s) => s.run ?? '').join('\n');
const uses = (job: Job): string[] => job.steps.flatMap((s) => (s.uses ? [s.uses] : []));
const TARGETS = SERVICES.map((s) => s.name);

describe('GitHub Actions workflows', () => {
  it('are valid YAML with jobs whose steps each run or use something, on a pinned action version', () => {
    const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
    expect(files.sort()).toEqual(['cd.yml', 'ci.yml']);
    for (const file of files) {
      const workflow = load(file);
      expect(workflow.name).toBeTruthy();
      expect(workflow.on).toBeDefined();
      for (const [name, job] of Object.entries(workflow.jobs)) {
        expect(`${file} ${name}: ${typeof job['runs-on']}`).toBe(`${file} ${name}: string`);
        expect(job['timeout-minutes']).toBeGreaterThan(0);
        for (const need of [job.needs ?? []].flat()) expect(Object.keys(workflow.jobs)).toContain(need);
        for (const step of job.steps) {
          expect(Boolean(step.run) !== Boolean(step.uses)).toBe(true);
          // A commit SHA (ci.yml, node-runtime.spec.ts) or a version tag.
          if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
        }
      }
    }
  });

  describe('CI', () => {
    const ci = load('ci.yml');

    it('installs, lints and type-checks', () => {
      expect(scripts(ci.jobs.lint)).toContain('npm run lint');
      expect(scripts(ci.jobs.typecheck)).toContain('npm run typecheck');
      for (const job of Object.values(ci.jobs).filter((j) => uses(j).some((u) => u.startsWith('actions/setup-node')))) expect(scripts(job)).toMatch(/flotilla_npm_ci|npm ci/);
    });

    it('runs the tests against Postgres, Redis, RabbitMQ and MinIO', () => {
      const test = ci.jobs.test;
      expect(Object.values(test.services ?? {}).map((s) => s.image.split(':')[0]).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
      expect(scripts(test)).toMatch(/docker run [\s\S]*minio\/minio:RELEASE\.[\w-]+ server \/data/);
      expect(scripts(test)).toContain('npm test');
      expect(scripts(test)).toContain('presignPut');
    });

    it('lints the chart with --strict and renders it for every values file', () => {
      const helm = ci.jobs.helm;
      expect([...(helm.strategy?.matrix.values ?? [])].sort()).toEqual([...VALUES_FILES].sort());
      expect(scripts(helm)).toContain('node_modules/.bin/helm lint --strict deploy/helm/flotilla --values deploy/helm/flotilla/${{ matrix.values }}');
      expect(scripts(helm)).toMatch(/node_modules\/\.bin\/helm template flotilla deploy\/helm\/flotilla[\s\S]*--values deploy\/helm\/flotilla\/\$\{\{ matrix\.values \}\}/);
    });

    it('builds every image target with docker/build-push-action', () => {
      const images = ci.jobs.images;
      expect(images.strategy?.matrix.target).toEqual(TARGETS);
      const build = images.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
      expect(build.with).toMatchObject({ context: '.', target: '${{ matrix.target }}', push: false });
    });

    it('deploys the chart to a kind cluster and runs the end-to-end tests there', () => {
      const kind = ci.jobs.kind;
      expect(uses(kind).some((u) => u.startsWith('helm/kind-action@'))).toBe(true);
      const script = scripts(kind);
      expect(script).toContain(`for target in ${TARGETS.join(' ')}`);
      expect(script).toContain('kind load docker-image');
      expect(script).toMatch(/helm upgrade --install flotilla deploy\/helm\/flotilla[\s\S]*values-dev\.yaml[\s\S]*--wait/);
      expect(script).toContain('npm run test:e2e');
      expect(script).toContain('/polls/cats-vs-dogs/votes');
    });
  });

  describe('CD', () => {
    const cd = load('cd.yml');

    it('builds and pushes every image to GHCR', () => {
      const images = cd.jobs.images;
      expect(images.strategy?.matrix.target).toEqual(TARGETS);
      expect(uses(images).some((u) => u.startsWith('docker/login-action@'))).toBe(true);
      const build = images.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
      expect(build.with).toMatchObject({ push: true, target: '${{ matrix.target }}' });
      expect(cd.permissions?.packages).toBe('write');
      expect(JSON.stringify(images)).toContain('login-action');
      expect(cd.env).toMatchObject({ REGISTRY: 'ghcr.io' });
    });

    it.each(['deploy-dev', 'deploy-prod'])('%s bumps the tag in the GitOps values, syncs Argo CD, and gates on the k6 smoke run', (name) => {
      const job = cd.jobs[name];
      const env = name === 'deploy-dev' ? 'dev' : 'prod';
      const script = scripts(job);
      expect(script).toContain('yq -i ".global.image.tag');
      expect(existsSync(join(ROOT, `deploy/helm/flotilla/values-${env}.yaml`))).toBe(true);
      expect(script).toContain('.spec.generators[0].list.elements[0].revision');
      expect(script).toMatch(/argocd app sync "flotilla-\$\{ENVIRONMENT\}"[\s\S]*argocd app wait "flotilla-\$\{ENVIRONMENT\}" --sync --health/);
      const k6 = job.steps.findIndex((s) => s.uses?.startsWith('grafana/run-k6-action@'));
      const sync = job.steps.findIndex((s) => s.name === 'Argo CD sync');
      expect(k6).toBeGreaterThan(sync);
      expect(job.steps[k6].with?.path).toBe('deploy/k6/smoke.js');
    });

    it('promotes to production only after the development gate, with approval', () => {
      expect(cd.jobs['deploy-prod'].needs).toContain('deploy-dev');
      expect(cd.jobs['deploy-prod'].environment).toMatchObject({ name: 'production' });
    });
  });
});
