import { spawnSync } from 'node:child_process';
import { helmBinary } from './paths.js';
import { parseManifests, type K8sObject } from './manifests.js';

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the pinned Helm with an argument array (no shell); Helm's own state stays in a temp dir. */
export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      HELM_CACHE_HOME: '/tmp/flotilla-helm-test/cache',
      HELM_CONFIG_HOME: '/tmp/flotilla-helm-test/config',
      HELM_DATA_HOME: '/tmp/flotilla-helm-test/data',
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm lint --strict` of `chart` with `values` (a path, or none for the chart's defaults). */
export function helmLint(chart: string, values?: string): HelmResult {
  return helm(['lint', '--strict', chart, ...(values ? ['--values', values] : [])]);
}

/** `helm template` as release `flotilla` in `namespace`; throws with Helm's message when rendering fails. */
export function helmTemplate(chart: string, values: string | undefined, namespace: string, extra: string[] = []): K8sObject[] {
  const result = helm(['template', 'flotilla', chart, '--namespace', namespace, ...(values ? ['--values', values] : []), ...extra]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}
