import { createHash } from 'node:crypto';
import { PermanentDriverError } from './cluster-driver.js';

/**
 * Which installation of the platform created a store namespace. Several installations
 * (dev and prod) may share a cluster: each labels its namespaces with its own id, gives
 * them its own prefix, and only ever sweeps namespaces that carry its id.
 */
export const INSTALLATION_LABEL = 'flotilla.io/installation';

/** What a driver needs to know about its installation. */
export interface Ownership {
  /** A DNS label: the value of {@link INSTALLATION_LABEL} on everything this installation creates. */
  installationId: string;
  /** New store namespaces are `{namespacePrefix}-{name}`; at most {@link NAMESPACE_PREFIX_MAX} characters. */
  namespacePrefix: string;
}

/** The prefix of namespaces created before installations had ids; still accepted for those stores. */
export const LEGACY_NAMESPACE_PREFIX = 'store';

/** Without settings (tests, a single local installation): the prefix every store namespace had before. */
export const DEFAULT_OWNERSHIP: Ownership = { installationId: 'flotilla', namespacePrefix: LEGACY_NAMESPACE_PREFIX };

/** Store names have at most 40 characters (`STORE_NAME_MAX`); 22 + '-' + 40 = 63, the limit of a namespace name. */
export const NAMESPACE_PREFIX_MAX = 22;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `id` cannot be an installation id, or `undefined`. */
export function installationIdProblem(id: string): string | undefined {
  return DNS_LABEL.test(id) ? undefined : 'must be a DNS label: lower-case letters, digits and hyphens, 1 to 63, starting and ending with a letter or digit';
}

/** Why `prefix` cannot be a namespace prefix, or `undefined`. */
export function namespacePrefixProblem(prefix: string): string | undefined {
  if (!DNS_LABEL.test(prefix) || prefix.length > NAMESPACE_PREFIX_MAX) {
    return `must be lower-case letters, digits and hyphens, 1 to ${NAMESPACE_PREFIX_MAX} characters, starting and ending with a letter or digit`;
  }
  if (prefix.startsWith('kube') || prefix === 'default') return 'must not name a namespace of the cluster itself (kube*, default)';
  return undefined;
}

/**
 * `store-{installationId}`, or, when that is longer than {@link NAMESPACE_PREFIX_MAX},
 * its first characters and a hash of the whole id, so two long ids still get two prefixes.
 */
export function defaultNamespacePrefix(installationId: string): string {
  const whole = `store-${installationId}`;
  if (whole.length <= NAMESPACE_PREFIX_MAX) return whole;
  const hash = createHash('sha256').update(installationId).digest('hex').slice(0, 8);
  return `store-${installationId.slice(0, 7).replace(/-+$/, '')}-${hash}`;
}

/** Checks `ownership`, throwing a plain error naming the setting (a configuration mistake, found at start). */
export function checkOwnership(ownership: Ownership): Ownership {
  const idProblem = installationIdProblem(ownership.installationId);
  if (idProblem) throw new Error(`installation id ${JSON.stringify(ownership.installationId)} ${idProblem}`);
  const prefixProblem = namespacePrefixProblem(ownership.namespacePrefix);
  if (prefixProblem) throw new Error(`namespace prefix ${JSON.stringify(ownership.namespacePrefix)} ${prefixProblem}`);
  return ownership;
}

/** The namespace of a new store. */
export function namespaceFor(prefix: string, name: string): string {
  return `${prefix}-${name}`;
}

/**
 * The store's namespace once it is one this installation may use: `{prefix}-{name}`,
 * or `store-{name}` for a store created before installations had prefixes. Throws
 * {@link PermanentDriverError} for anything else.
 */
export function checkStoreNamespace(namespace: unknown, name: string, prefix: string): string {
  if (namespace === namespaceFor(prefix, name) || namespace === namespaceFor(LEGACY_NAMESPACE_PREFIX, name)) return namespace as string;
  throw new PermanentDriverError(`namespace ${JSON.stringify(namespace)} refused: a store's namespace is ${namespaceFor(prefix, name)}`);
}

/** The settings ownership comes from (the provisioner's environment). */
export interface OwnershipSettings {
  INSTALLATION_ID?: string;
  STORE_NAMESPACE_PREFIX?: string;
  /** The installation's resource prefix (`@flotilla/config` NAMESPACE), the id where none is set. */
  NAMESPACE?: string;
}

/**
 * `INSTALLATION_ID` (the chart sets its release namespace), else NAMESPACE, else
 * `flotilla`; `STORE_NAMESPACE_PREFIX`, else {@link defaultNamespacePrefix} of the id.
 */
export function resolveOwnership(settings: OwnershipSettings): Ownership {
  const installationId = settings.INSTALLATION_ID || settings.NAMESPACE || DEFAULT_OWNERSHIP.installationId;
  return checkOwnership({ installationId, namespacePrefix: settings.STORE_NAMESPACE_PREFIX || defaultNamespacePrefix(installationId) });
}
