import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import {
  RpcError,
  STORE_SPEC_API_VERSION,
  storeSpecProblems,
  type RpcActor,
  type RpcFieldError,
  type Store,
  type StoreSpecChange,
  type StoreSpecDocument,
} from '@flotilla/contracts';
import { analysisProblems } from '../operations/rollout-analysis.js';
import { stepsProblem } from '../operations/rollout-steps.js';
import { type StoreRow } from './store-repository.js';
import { StoresService } from './stores.service.js';

/**
 * `GET /stores/{id}/spec` and `PUT /stores/{id}/spec[?dryRun=true]` (API.md, Stores): the
 * store's desired state as a `kind: Store` document, and a document checked against the
 * schema (one 422 naming every bad field), compared with the desired state (a dry run
 * answers the differences and changes nothing) and applied through StoresService.update,
 * the path PATCH takes.
 */
@Injectable()
export class StoreSpecs {
  constructor(private readonly stores: StoresService) {}

  async get(storeId: string, actor: RpcActor): Promise<StoreSpecDocument> {
    return specOf(await this.stores.findScoped(storeId, actor));
  }

  async put(storeId: string, document: unknown, dryRun: boolean, actor: RpcActor): Promise<{ diff: StoreSpecChange[] } | Store> {
    const row = await this.stores.findScoped(storeId, actor);
    const problems = storeSpecProblems(document);
    if (problems.length === 0) problems.push(...meaningProblems(document as StoreSpecDocument, row));
    if (problems.length > 0) throw new RpcError('UNPROCESSABLE', `The spec was refused: ${problems.length} problem(s).`, problems);
    const wanted = document as StoreSpecDocument;
    const current = specOf(row);
    const diff = differences(current, wanted);
    if (dryRun) return { diff };
    const { spec } = wanted;
    const rolloutChanged = spec.rollout !== undefined && !isDeepStrictEqual(spec.rollout, current.spec.rollout);
    const restart = ['env', 'readinessProbe', 'livenessProbe'].some((k) => diff.some((d) => d.path === `spec.${k}` || d.path.startsWith(`spec.${k}.`) || d.path.startsWith(`spec.${k}[`)));
    return this.stores.update(
      row.id,
      { version: spec.version, replicas: spec.replicas, ...(rolloutChanged ? { rollout: spec.rollout } : {}) },
      actor,
      {
        env: spec.env ?? [],
        probes: { ...(spec.readinessProbe ? { readinessProbe: spec.readinessProbe } : {}), ...(spec.livenessProbe ? { livenessProbe: spec.livenessProbe } : {}) },
        autoscale: spec.autoscale ?? null,
        restart,
      },
    );
  }
}

/** The row's desired state as a document; what a spec omits is shown as empty (env) or left out. */
export function specOf(row: StoreRow): StoreSpecDocument {
  const probes = row.probes ?? {};
  return {
    apiVersion: STORE_SPEC_API_VERSION,
    kind: 'Store',
    metadata: { name: row.name },
    spec: {
      template: row.template,
      version: row.version,
      replicas: row.replicas,
      env: row.env ?? [],
      ...(probes.readinessProbe ? { readinessProbe: probes.readinessProbe } : {}),
      ...(probes.livenessProbe ? { livenessProbe: probes.livenessProbe } : {}),
      ...(row.autoscale ? { autoscale: row.autoscale } : {}),
      rollout: row.rollout,
    },
  };
}

/** What the schema cannot say: the store it is for, what cannot change, and the rollout's own rules. */
function meaningProblems({ metadata, spec }: StoreSpecDocument, row: StoreRow): RpcFieldError[] {
  const problems: RpcFieldError[] = [];
  if (metadata.name !== row.name) problems.push({ path: 'metadata.name', message: `metadata.name must be the store's name, ${row.name}; a store cannot be renamed` });
  if (spec.template !== row.template) problems.push({ path: 'spec.template', message: `spec.template cannot change (the store is ${row.template})` });
  const seen = new Set<string>();
  (spec.env ?? []).forEach(({ name }, i) => {
    if (seen.has(name)) problems.push({ path: `spec.env[${i}].name`, message: `spec.env[${i}].name ${name} is given twice` });
    seen.add(name);
  });
  if (spec.autoscale && spec.autoscale.minReplicas > spec.autoscale.maxReplicas) {
    problems.push({ path: 'spec.autoscale.minReplicas', message: 'spec.autoscale.minReplicas must not be above maxReplicas' });
  }
  const rollout = spec.rollout;
  if (rollout?.steps) {
    const problem = rollout.strategy === 'Canary' ? stepsProblem(rollout.steps) : 'steps are for the Canary strategy only';
    if (problem) problems.push({ path: 'spec.rollout.steps', message: problem });
  }
  if (rollout?.scaleDownDelaySeconds !== undefined && rollout.strategy !== 'BlueGreen') {
    problems.push({ path: 'spec.rollout.scaleDownDelaySeconds', message: 'scaleDownDelaySeconds is for the BlueGreen strategy only' });
  }
  if (rollout?.analysis) problems.push(...analysisProblems(rollout.analysis, rollout.strategy).map((p) => ({ ...p, path: `spec.${p.path}` })));
  return problems;
}

/**
 * Field by field, from the current document to the wanted one: objects are walked, arrays
 * (env, steps) and scalars compared whole. An absent rollout in the wanted document keeps
 * the current one (as PATCH does), so it is no difference.
 */
export function differences(current: StoreSpecDocument, wanted: StoreSpecDocument): StoreSpecChange[] {
  const changes: StoreSpecChange[] = [];
  const walk = (path: string, from: unknown, to: unknown): void => {
    if (isDeepStrictEqual(from, to)) return;
    if (isPlain(from) && isPlain(to)) {
      for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) walk(`${path}.${key}`, from[key], to[key]);
      return;
    }
    changes.push({ path, from: from ?? null, to: to ?? null });
  };
  const { rollout, env, ...spec } = wanted.spec;
  walk('spec', current.spec, { ...spec, env: env ?? [], rollout: rollout ?? current.spec.rollout });
  walk('metadata', current.metadata, wanted.metadata);
  return changes;
}

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
