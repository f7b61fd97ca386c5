import { join } from 'node:path';
import type { ServiceEnv } from './env.js';
import { helmLint, helmTemplate } from './helm.js';
import { podSpec, type K8sObject } from './manifests.js';
import { policyViolations } from './policy.js';
import { allSchemaProblems } from './schema.js';

/** Variables a service requires that its Deployment does not set, and variables it sets that the service does not read. */
export function chartEnvProblems(objects: K8sObject[], envs: ServiceEnv[]): string[] {
  const out: string[] = [];
  for (const env of envs) {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/name'] === env.service);
    if (!deployment) {
      out.push(`${env.service}: no Deployment`);
      continue;
    }
    const container = podSpec(deployment).containers[0];
    const fromConfigMaps = (container.envFrom ?? []).flatMap((ref: { configMapRef?: { name: string } }) => {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.configMapRef?.name);
      return cm ? Object.keys(cm.data ?? {}) : [`<missing ConfigMap ${ref.configMapRef?.name}>`];
    });
    const set: string[] = [...fromConfigMaps, ...(container.env ?? []).map((e: { name: string }) => e.name)];
    for (const key of env.required) if (!set.includes(key)) out.push(`${env.service}: ${key} is not set`);
    for (const key of set) if (!(key in env.defaults)) out.push(`${env.service}: sets ${key}, which it does not read`);
  }
  return out;
}

/**
 * Every check of a chart with one values file: `helm lint --strict`, `helm template`,
 * the schemas, the container policy and the services' environment. The problems found,
 * or an empty list.
 */
export async function checkChart(chart: string, valuesFile: string, namespace: string, envs: ServiceEnv[]): Promise<string[]> {
  const values = join(chart, valuesFile);
  const lint = helmLint(chart, values);
  const problems = lint.status === 0 ? [] : [`helm lint --strict: ${(lint.stdout + lint.stderr).split('\n').filter((l) => /ERROR|Error/.test(l)).join(' | ')}`];
  let objects: K8sObject[];
  try {
    objects = helmTemplate(chart, values, namespace);
  } catch (error) {
    return [...problems, error instanceof Error ? error.message : String(error)];
  }
  return [...problems, ...(await allSchemaProblems(objects)), ...policyViolations(objects), ...chartEnvProblems(objects, envs)];
}
