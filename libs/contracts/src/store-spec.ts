import { Ajv, type ErrorObject } from 'ajv';
import type { RpcFieldError } from './rpc.js';
import { STORE_SPEC_SCHEMA } from './store-spec.schema.js';
import type { RolloutSpec, StoreTemplate } from './stores.js';

/**
 * A store's desired state as a document (API.md, Stores: `kind: Store`), read with
 * `GET /stores/{id}/spec` and applied with `PUT /stores/{id}/spec`. Its JSON Schema is
 * store-spec.schema.json; `storeSpecProblems` checks a document against it.
 */
export const STORE_SPEC_API_VERSION = 'flotilla.io/v1';

export interface StoreEnvVar {
  name: string;
  value: string;
}

export interface StoreProbe {
  httpGet: { path: string; port?: number };
  periodSeconds?: number;
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface StoreAutoscale {
  minReplicas: number;
  maxReplicas: number;
  targetCPUPercent: number;
}

export interface StoreSpecBody {
  template: StoreTemplate;
  version: string;
  replicas: number;
  env?: StoreEnvVar[];
  readinessProbe?: StoreProbe;
  livenessProbe?: StoreProbe;
  autoscale?: StoreAutoscale;
  rollout?: RolloutSpec;
}

export interface StoreSpecDocument {
  apiVersion: typeof STORE_SPEC_API_VERSION;
  kind: 'Store';
  metadata: { name: string };
  spec: StoreSpecBody;
}

/** One difference between the desired state and a document (`PUT /stores/{id}/spec?dryRun=true`). */
export interface StoreSpecChange {
  path: string;
  from: unknown;
  to: unknown;
}



// One compiled validator; allErrors so one answer names every bad field.
const validate = new Ajv({ allErrors: true, strict: true }).compile(STORE_SPEC_SCHEMA);

/** Every way `doc` breaks the schema, as field problems (`spec.env[2].name`), or [] when it is valid. */
export function storeSpecProblems(doc: unknown): RpcFieldError[] {
  if (validate(doc)) return [];
  const seen = new Set<string>();
  const problems: RpcFieldError[] = [];
  for (const error of validate.errors ?? []) {
    const problem = describe(error);
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) problems.push(problem);
    seen.add(key);
  }
  return problems;
}

/** `/spec/env/0/name` → `spec.env[0].name`; a missing or unknown property is named itself. */
function describe(error: ErrorObject): RpcFieldError {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra !== undefined) parts.push(extra);
  const path = parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(document)';
  const message = error.keyword === 'additionalProperties' ? 'is not a known field' : error.keyword === 'not' ? 'is set by the store from its generated secrets and cannot be given' : (error.message ?? 'is invalid');
  return { path, message: `${path} ${message}` };
}
