import { isSecretName } from '@flotilla/config';
import { SERVICES, type ServiceName } from './paths.js';

/** What a service's environment class declares: every variable with its default. */
export interface ServiceEnv {
  service: ServiceName;
  defaults: Record<string, unknown>;
  /** Variables a deployment must set: see {@link requiredVariables}. */
  required: string[];
}

/**
 * Variables whose defaults only suit one development machine, so every deployment must
 * set them: NODE_ENV and HTTP_PORT (the ports agree across Dockerfile, Compose and
 * Helm); any default pointing at this machine (127.0.0.1, localhost: the servers, the
 * admin service's address); every secret (its default is a public development value);
 * the object storage settings; and the provisioner's cluster driver (`auto` would guess
 * from the environment).
 */
export function requiredVariables(service: ServiceName, defaults: Record<string, unknown>): string[] {
  return Object.keys(defaults).filter(
    (key) =>
      key === 'NODE_ENV' ||
      key === 'HTTP_PORT' ||
      /127\.0\.0\.1|localhost/.test(String(defaults[key])) ||
      isSecretName(key) ||
      key.startsWith('S3_') ||
      (service === 'provisioner' && key === 'CLUSTER_DRIVER'),
  );
}

/** Loads each service's env class from its source (services/<name>/src/<name>.env.ts). */
export async function serviceEnvs(): Promise<ServiceEnv[]> {
  const out: ServiceEnv[] = [];
  for (const { name } of SERVICES) {
    const mod = (await import(`../../../services/${name}/src/${name}.env.js`)) as Record<string, unknown>;
    const EnvClass = Object.values(mod).find(
      (v): v is new () => object => typeof v === 'function' && /Env$/.test(v.name) && 'HTTP_PORT' in (new (v as new () => object)() as object),
    );
    if (!EnvClass) throw new Error(`services/${name}/src/${name}.env.ts exports no env class with HTTP_PORT`);
    const defaults = { ...(new EnvClass() as Record<string, unknown>) };
    out.push({ service: name, defaults, required: requiredVariables(name, defaults) });
  }
  return out;
}
