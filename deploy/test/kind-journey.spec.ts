import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { STORE_VERSION_PATTERN } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { ROOT } from './support/paths.js';

/*
 * CI's kind job cannot run here (no container engine): what can be checked without a
 * cluster is. The journey script parses, the job runs it against the provisioner on the
 * kubernetes driver behind a pinned ingress-nginx, and the store images it preloads are
 * the ones the WordPress chart and the script's versions use.
 */

const SCRIPT = join(ROOT, 'deploy/test/kind/store-journey.sh');
const script = readFileSync(SCRIPT, 'utf8');
type Step = { name?: string; uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
const workflow = parse(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as { jobs: Record<string, { env: Record<string, string>; steps: Step[] }> };
const kind = workflow.jobs.kind;
const wordpress = parse(readFileSync(join(ROOT, 'deploy/store-charts/wordpress/values.yaml'), 'utf8')) as {
  image: { repository: string };
  install: { image: { repository: string; tag: string } };
  database: { image: { repository: string; tag: string } };
};
const scriptDefault = (name: string): string => {
  const found = new RegExp(`^${name}=\\$\\{${name}:-([^}]+)\\}$`, 'm').exec(script);
  if (!found) throw new Error(`the script has no default for ${name}`);
  return found[1];
};

describe('the store journey of CI’s kind job', () => {
  it('is an executable bash script that stops at the first failure', () => {
    expect(spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' }).stderr).toBe('');
    expect(script).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(statSync(SCRIPT).mode & 0o111).not.toBe(0);
  });

  it('is run by the kind job against the provisioner on the kubernetes driver, after ingress-nginx from a pinned manifest', () => {
    const runs = kind.steps.map((s) => s.run ?? '').join('\n');
    expect(kind.env.INGRESS_NGINX_MANIFEST).toMatch(/\/controller-v\d+\.\d+\.\d+\/deploy\/static\/provider\/kind\/deploy\.yaml$/);
    expect(runs).toContain('--set provisioner.config.CLUSTER_DRIVER=kubernetes');
    expect(runs).not.toMatch(/CLUSTER_DRIVER=simulated/);
    expect(runs.indexOf('kubectl apply -f "$INGRESS_NGINX_MANIFEST"')).toBeGreaterThan(-1);
    expect(runs.indexOf('kubectl apply -f "$INGRESS_NGINX_MANIFEST"')).toBeLessThan(runs.indexOf('deploy/test/kind/store-journey.sh'));
    const journey = kind.steps.find((s) => s.run?.includes('deploy/test/kind/store-journey.sh'));
    expect(journey?.env?.INSTALLATION_ID).toBe('${{ env.KUBE_NAMESPACE }}');
    expect(kind.steps.find((s) => s.uses?.startsWith('helm/kind-action'))?.with?.config).toBe('deploy/test/kind/kind-config.yaml');
    expect(readFileSync(join(ROOT, 'deploy/test/kind/kind-config.yaml'), 'utf8')).toContain('node-labels: "ingress-ready=true"');
  });

  it('preloads the images the WordPress chart runs for the script’s versions', () => {
    const preloaded = kind.env.STORE_IMAGES.split(/\s+/);
    for (const version of [scriptDefault('VERSION_1'), scriptDefault('VERSION_2')]) expect(preloaded).toContain(`${wordpress.image.repository}:${version}`);
    expect(preloaded).toContain(`${wordpress.install.image.repository}:${wordpress.install.image.tag}`);
    expect(preloaded).toContain(`${wordpress.database.image.repository}:${wordpress.database.image.tag}`);
  });

  it('uses versions the API accepts, the failing one an image tag nobody publishes', () => {
    for (const name of ['VERSION_1', 'VERSION_2', 'FAILING_VERSION']) expect(scriptDefault(name)).toMatch(STORE_VERSION_PATTERN);
    expect(scriptDefault('FAILING_VERSION')).toMatch(/does-not-exist/);
  });
});
