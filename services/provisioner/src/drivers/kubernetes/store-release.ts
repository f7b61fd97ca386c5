import { storeNameProblem, StoreTemplates, type StoreTemplate } from '@flotilla/contracts';
import { checkStoreNamespace, namespacePrefixProblem } from '../ownership.js';
import { PermanentDriverError, type ReleaseSpec, type RevisionSpec, type StoreRef } from '../cluster-driver.js';

/**
 * The secrets each store chart requires (`secrets.*` in `deploy/store-charts/{template}`).
 * A store's secrets are generated once and passed unchanged on every apply: the
 * databases keep the passwords they were initialised with.
 */
export const STORE_SECRET_KEYS: Readonly<Record<StoreTemplate, readonly string[]>> = {
  wordpress: ['databaseRootPassword', 'databasePassword', 'adminPassword', 'authSalt'],
  medusa: ['databaseRootPassword', 'databasePassword', 'adminPassword', 'redisPassword', 'jwtSecret', 'cookieSecret'],
};

/** What a generated secret may look like (base64, base64url or hex of enough random bytes). */
export const STORE_SECRET_PATTERN = /^[A-Za-z0-9_.~+/=-]{16,256}$/;

/** An image tag that is also a valid label value (the charts label pods with it). */
export const STORE_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Pods one revision may ask for (the default namespace quota holds 20). */
export const MAX_REVISION_REPLICAS = 20;

const HOST_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The store's namespace, once the name is one the platform accepts and the namespace is
 * `{prefix}-{name}` (or `store-{name}`, the namespace of stores from before prefixes).
 * Without `prefix`, any prefix that could be an installation's is accepted — the driver
 * checks its own before calling. Throws {@link PermanentDriverError} otherwise, so a
 * hostile name (`../x`, `a;rm -rf /`, `--set`, 63+ characters) never reaches Helm or the API.
 */
export function storeNamespace(store: StoreRef, prefix?: string): string {
  const name: unknown = store?.name;
  if (typeof name !== 'string') throw new PermanentDriverError('store name is missing');
  const problem = storeNameProblem(name);
  if (problem) throw new PermanentDriverError(`store name ${JSON.stringify(name)} refused: ${problem}`);
  if (prefix !== undefined) return checkStoreNamespace(store.namespace, name, prefix);
  const namespace: unknown = store.namespace;
  const suffix = `-${name}`;
  if (typeof namespace !== 'string' || !namespace.endsWith(suffix) || namespacePrefixProblem(namespace.slice(0, -suffix.length))) {
    throw new PermanentDriverError(`namespace ${JSON.stringify(namespace)} refused: a store's namespace is store-${name} or {prefix}-${name}`);
  }
  return namespace;
}

export function checkTemplate(template: unknown): StoreTemplate {
  if (typeof template !== 'string' || !(StoreTemplates as readonly string[]).includes(template)) {
    throw new PermanentDriverError(`template ${JSON.stringify(template)} refused: one of ${StoreTemplates.join(', ')}`);
  }
  return template as StoreTemplate;
}

/** A value that may stand as a Kubernetes label value (store and team ids). */
export function checkLabelValue(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || !LABEL_VALUE_PATTERN.test(value)) {
    throw new PermanentDriverError(`${what} ${JSON.stringify(value)} refused: not a valid label value`);
  }
  return value;
}

/**
 * Checks `release` against the chart's contract and returns its revisions in order.
 * Throws {@link PermanentDriverError} for anything the chart would refuse, before Helm runs.
 */
export function checkRelease(template: StoreTemplate, release: ReleaseSpec): RevisionSpec[] {
  if (typeof release?.host !== 'string' || !HOST_PATTERN.test(release.host)) {
    throw new PermanentDriverError(`host ${JSON.stringify(release?.host)} refused: a lower-case DNS name is needed`);
  }
  const revisions = Array.isArray(release.revisions) ? release.revisions : [];
  if (revisions.length < 1 || revisions.length > 2) {
    throw new PermanentDriverError(`a release runs one or two revisions, not ${revisions.length}`);
  }
  const seen = new Set<number>();
  let total = 0;
  for (const revision of revisions) {
    const { revision: number, version, replicas, weight } = revision ?? ({} as RevisionSpec);
    if (!Number.isSafeInteger(number) || number < 1) throw new PermanentDriverError(`revision ${JSON.stringify(number)} refused: a whole number from 1`);
    if (seen.has(number)) throw new PermanentDriverError(`revision ${number} is listed twice`);
    seen.add(number);
    if (typeof version !== 'string' || !STORE_VERSION_PATTERN.test(version)) {
      throw new PermanentDriverError(`version ${JSON.stringify(version)} of revision ${number} refused: an image tag of letters, digits, '.', '_' and '-' (at most 63)`);
    }
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REVISION_REPLICAS) {
      throw new PermanentDriverError(`replicas ${JSON.stringify(replicas)} of revision ${number} refused: 0 to ${MAX_REVISION_REPLICAS}`);
    }
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      throw new PermanentDriverError(`weight ${JSON.stringify(weight)} of revision ${number} refused: 0 to 100`);
    }
    total += weight;
  }
  if (total !== 100) throw new PermanentDriverError(`the weights of a release add up to 100, not ${total}`);
  checkSecrets(template, release.secrets);
  return [...revisions].sort((a, b) => a.revision - b.revision).map(({ revision, version, replicas, weight }) => ({ revision, version, replicas, weight }));
}

/** The chart's secrets out of `secrets` (others are not passed on); each must be present and well-formed. */
export function checkSecrets(template: StoreTemplate, secrets: Record<string, string> | undefined): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of STORE_SECRET_KEYS[template]) {
    const value = secrets?.[key];
    if (value === undefined || value === '') throw new PermanentDriverError(`secret ${key} is missing (the ${template} chart requires ${STORE_SECRET_KEYS[template].join(', ')})`);
    // The message names the key only: the value is a secret even when it is malformed.
    if (typeof value !== 'string' || !STORE_SECRET_PATTERN.test(value)) {
      throw new PermanentDriverError(`secret ${key} refused: 16 to 256 characters of A-Z a-z 0-9 _ . ~ + / = -`);
    }
    picked[key] = value;
  }
  return picked;
}

export interface StoreValuesOptions {
  ingressClassName: string;
  ingressNamespace: string;
  storageClassName?: string;
  /** The installation's id: chart value `installation`, the label `flotilla.io/installation` of every object the chart renders. */
  installation?: string;
  /** Operator defaults per chart (images, sizes, resources), under the values the release sets. */
  chartValues?: Partial<Record<StoreTemplate, Record<string, unknown>>>;
}

/**
 * The values document of a release (passed to Helm on standard input): the operator's
 * chart values, then the installation id, host, ingress class, secrets, revisions,
 * storage class and the ingress controller's namespace on top (an operator's value
 * cannot relabel a release as another installation's).
 */
export function storeValues(template: StoreTemplate, release: ReleaseSpec, options: StoreValuesOptions): Record<string, unknown> {
  const revisions = checkRelease(template, release);
  return deepMerge(options.chartValues?.[template] ?? {}, {
    ...(options.installation === undefined ? {} : { installation: options.installation }),
    host: release.host,
    ingress: { className: options.ingressClassName },
    secrets: checkSecrets(template, release.secrets),
    revisions,
    ...(options.storageClassName ? { storageClassName: options.storageClassName } : {}),
    networkPolicy: { ingressNamespace: options.ingressNamespace },
    // The store spec's env and probes (values.schema.json `spec`); without them the charts' own probes.
    ...(release.app ? { spec: release.app } : {}),
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` on top of `base`: objects merge key by key, anything else (arrays too) replaces. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}
