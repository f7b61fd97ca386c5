import type { K8sObject } from './manifests.js';

/**
 * Schema validation that works offline:
 * - the OpenAPI schemas of Kubernetes (kubernetes-models) and of the custom resources
 *   used here (Argo CD, Prometheus Operator, External Secrets: @kubernetes-models/*),
 *   compiled validators: types, required fields, enums, formats;
 * - for built-in kinds, also no unknown field anywhere (as `kubectl --validate=strict`):
 *   the field lists of @kubernetes/client-node's models, so a misspelt key such as
 *   `livenesProbe` fails instead of being dropped by the API server.
 */
const MODEL_PACKAGES: Record<string, string> = {
  'argoproj.io': '@kubernetes-models/argo-cd',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'external-secrets.io': '@kubernetes-models/external-secrets',
};

interface Model {
  new (data: unknown): { validate(): void };
}

function modulePath(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (!group) return `kubernetes-models/${version}`;
  const pkg = MODEL_PACKAGES[group];
  return pkg ? `${pkg}/${group}/${version}` : `kubernetes-models/${group}/${version}`;
}

const loaded = new Map<string, Record<string, unknown>>();

async function loadModel(apiVersion: string, kind: string): Promise<Model> {
  const path = modulePath(apiVersion);
  let mod = loaded.get(path);
  try {
    mod ??= (await import(path)) as Record<string, unknown>;
    loaded.set(path, mod);
  } catch (error) {
    throw new Error(`no schema for ${apiVersion} (${path}): ${error instanceof Error ? error.message : String(error)}`);
  }
  const model = mod[kind] as Model | undefined;
  if (!model) throw new Error(`no schema for ${kind} in ${apiVersion}`);
  return model;
}

type AttributeMap = { name: string; baseName: string; type: string }[];
type ClientModels = Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>;
let clientModels: ClientModels | undefined;

async function models(): Promise<ClientModels> {
  clientModels ??= (await import('@kubernetes/client-node')) as unknown as ClientModels;
  return clientModels;
}

/** Paths of fields that the model `type` (a client-node model name) does not declare. */
function unknownFields(value: unknown, type: string, path: string, all: ClientModels, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, all, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`, all, out);
    return;
  }
  const model = all[type];
  if (!model?.getAttributeTypeMap || typeof value !== 'object' || Array.isArray(value)) return;
  const attributes = model.getAttributeTypeMap();
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) out.push(`${path}.${key}`);
    else unknownFields(child, attribute.type, `${path}.${key}`, all, out);
  }
}

/** `V1Deployment` for apps/v1 Deployment, `V2HorizontalPodAutoscaler` for autoscaling/v2 … */
function clientModelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Problems of one object against its schema; empty when it is valid. */
export async function schemaProblems(object: K8sObject): Promise<string[]> {
  const where = `${object.kind ?? '?'} ${object.metadata?.name ?? '?'}`;
  if (!object.apiVersion || !object.kind) return [`${where}: apiVersion and kind are required`];
  const problems: string[] = [];
  try {
    const Model = await loadModel(object.apiVersion, object.kind);
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  if (!(group in MODEL_PACKAGES)) {
    const all = await models();
    const name = clientModelName(object.apiVersion, object.kind);
    if (all[name]?.getAttributeTypeMap) {
      const unknown: string[] = [];
      unknownFields(object, name, '', all, unknown);
      problems.push(...unknown.map((p) => `${where}: unknown field ${p.slice(1)}`));
    }
  }
  return problems;
}

/** Problems of every object, in order. One at a time: Jest's ESM loader fails on concurrent imports of one module. */
export async function allSchemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) problems.push(...(await schemaProblems(o)));
  return problems;
}
