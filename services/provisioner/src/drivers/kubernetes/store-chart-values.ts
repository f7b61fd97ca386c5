import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { StoreTemplates, type StoreTemplate } from '@flotilla/contracts';
import { findUp, moduleDir } from './helm.js';
import { deepMerge, STORE_SECRET_KEYS } from './store-release.js';

/** Operator values of the store charts, per chart, as the driver merges them under each release's own. */
export type StoreChartValues = Partial<Record<StoreTemplate, Record<string, unknown>>>;

/** Where the operator's store chart values come from (the provisioner's environment). */
export interface StoreChartValuesSettings {
  /** A YAML (or JSON) document `{common, wordpress, medusa}`; applied over the file's. */
  STORE_CHART_VALUES?: string;
  /** Path of a file holding such a document. */
  STORE_CHART_VALUES_FILE?: string;
  /** Directory of the store charts (their values.yaml and values.schema.json); default `deploy/store-charts`. */
  STORE_CHARTS_DIR?: string;
}

/** The document's top-level keys: values for both charts, then per chart (which wins). */
const SECTIONS = ['common', ...StoreTemplates] as const;

/**
 * Values the driver sets for every store on every apply: an operator's value there would
 * be overwritten, so it is refused with the setting that does decide it. (`storageClassName`
 * is allowed: STORAGE_CLASS_NAME wins only when it is set.)
 */
const DRIVER_OWNED: Readonly<Record<string, string>> = {
  installation: 'INSTALLATION_ID',
  host: 'BASE_DOMAIN and the store name',
  secrets: 'the secrets generated for each store',
  revisions: 'each store’s version, replicas and rollout',
  'ingress.className': 'INGRESS_CLASS_NAME',
  'networkPolicy.ingressNamespace': 'INGRESS_NAMESPACE',
};

/** A store chart values setting that cannot be used; the message names the setting and the key. */
export class StoreChartValuesError extends Error {
  override readonly name = 'StoreChartValuesError';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The charts directory the driver uses: `STORE_CHARTS_DIR`, else `deploy/store-charts` of this installation. */
export function storeChartsDir(settings: Pick<StoreChartValuesSettings, 'STORE_CHARTS_DIR'>): string | undefined {
  return settings.STORE_CHARTS_DIR || findUp(join('deploy', 'store-charts'), moduleDir());
}

/** Parses one document and checks its shape; `source` names the setting in every message. */
export function parseStoreChartValues(text: string, source: string): StoreChartValues {
  let document: unknown;
  try {
    document = text.trim() === '' ? {} : loadYaml(text);
  } catch (error) {
    throw new StoreChartValuesError(`${source} is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return {};
  if (!isPlainObject(document)) throw new StoreChartValuesError(`${source} must be a mapping of ${SECTIONS.join(', ')}`);
  const out: StoreChartValues = {};
  for (const [section, values] of Object.entries(document)) {
    if (!(SECTIONS as readonly string[]).includes(section)) {
      throw new StoreChartValuesError(`${source}: unknown key ${JSON.stringify(section)} at the top (one of ${SECTIONS.join(', ')}; chart values go under one of them)`);
    }
    if (values === null || values === undefined) continue;
    if (!isPlainObject(values)) throw new StoreChartValuesError(`${source}: ${section} must be a mapping of chart values`);
    for (const [path, setBy] of Object.entries(DRIVER_OWNED)) {
      if (valueAt(values, path) !== undefined) throw new StoreChartValuesError(`${source}: ${section}.${path} is set by the provisioner for each store (from ${setBy})`);
    }
  }
  const common = isPlainObject(document.common) ? document.common : {};
  for (const template of StoreTemplates) {
    const own = document[template];
    const merged = deepMerge(common, isPlainObject(own) ? own : {});
    if (Object.keys(merged).length > 0) out[template] = merged;
  }
  return out;
}

function valueAt(values: Record<string, unknown>, path: string): unknown {
  let current: unknown = values;
  for (const key of path.split('.')) {
    if (!isPlainObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * The operator's values of each chart: `STORE_CHART_VALUES_FILE`, then `STORE_CHART_VALUES`
 * over it, each checked ({@link parseStoreChartValues}) and validated against the chart's
 * values.schema.json together with its defaults and the values the driver sets.
 * Throws {@link StoreChartValuesError} naming the setting and the key.
 */
export function loadStoreChartValues(settings: StoreChartValuesSettings): StoreChartValues {
  const layers: StoreChartValues[] = [];
  if (settings.STORE_CHART_VALUES_FILE) {
    let text: string;
    try {
      text = readFileSync(settings.STORE_CHART_VALUES_FILE, 'utf8');
    } catch (error) {
      throw new StoreChartValuesError(`STORE_CHART_VALUES_FILE ${JSON.stringify(settings.STORE_CHART_VALUES_FILE)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    layers.push(parseStoreChartValues(text, `STORE_CHART_VALUES_FILE (${settings.STORE_CHART_VALUES_FILE})`));
  }
  if (settings.STORE_CHART_VALUES) layers.push(parseStoreChartValues(settings.STORE_CHART_VALUES, 'STORE_CHART_VALUES'));
  const out: StoreChartValues = {};
  for (const template of StoreTemplates) {
    const values = layers.reduce<Record<string, unknown>>((acc, layer) => deepMerge(acc, layer[template] ?? {}), {});
    if (Object.keys(values).length > 0) out[template] = values;
  }
  if (layers.length === 0) return out;
  const chartsDir = storeChartsDir(settings);
  if (!chartsDir) throw new StoreChartValuesError('the store charts were not found (deploy/store-charts) to validate STORE_CHART_VALUES; set STORE_CHARTS_DIR');
  for (const template of StoreTemplates) {
    const problems = chartValuesProblems(chartsDir, template, out[template] ?? {});
    if (problems.length > 0) {
      const sources = [settings.STORE_CHART_VALUES_FILE && 'STORE_CHART_VALUES_FILE', settings.STORE_CHART_VALUES && 'STORE_CHART_VALUES'].filter(Boolean).join(' + ');
      throw new StoreChartValuesError(`${sources}: the ${template} chart refuses ${problems.join('; ')}`);
    }
  }
  return out;
}

const validators = new Map<string, { validate: ValidateFunction; defaults: Record<string, unknown> }>();

function chartValidator(chartsDir: string, template: StoreTemplate): { validate: ValidateFunction; defaults: Record<string, unknown> } {
  const key = join(chartsDir, template);
  let found = validators.get(key);
  if (!found) {
    const schema = JSON.parse(readFileSync(join(key, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
    const defaults = loadYaml<Record<string, unknown>>(readFileSync(join(key, 'values.yaml'), 'utf8')) ?? {};
    // Helm validates draft-07 schemas; `strict: false` lets the charts' annotations through.
    found = { validate: new Ajv({ allErrors: true, strict: false }).compile(schema), defaults };
    validators.set(key, found);
  }
  return found;
}

/** A release of one revision, as the driver would pass it: what the operator's values are checked with. */
function sampleDriverValues(template: StoreTemplate): Record<string, unknown> {
  return {
    installation: 'flotilla',
    host: 'store.example.com',
    ingress: { className: 'nginx' },
    secrets: Object.fromEntries(STORE_SECRET_KEYS[template].map((k) => [k, 'sample-secret-0123456789'])),
    revisions: [{ revision: 1, version: '1.0.0', replicas: 1, weight: 100 }],
    networkPolicy: { ingressNamespace: 'ingress-nginx' },
  };
}

/** What the chart's schema says of `values` merged as Helm merges them (chart defaults, operator's, driver's); `[]` when it fits. */
export function chartValuesProblems(chartsDir: string, template: StoreTemplate, values: Record<string, unknown>): string[] {
  const { validate, defaults } = chartValidator(chartsDir, template);
  const merged = deepMerge(deepMerge(defaults, values), sampleDriverValues(template));
  if (validate(merged)) return [];
  return (validate.errors ?? []).map(describeSchemaError);
}

function describeSchemaError(error: ErrorObject): string {
  const path = error.instancePath.split('/').filter(Boolean).join('.') || '(top)';
  if (error.keyword === 'additionalProperties') return `${path === '(top)' ? '' : `${path}.`}${String(error.params.additionalProperty)} is not a value of the chart`;
  return `${path} ${error.message ?? 'is invalid'}`;
}
