import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ENV } from '@flotilla/config';
import {
  mayAccessTeam,
  RolloutStrategies,
  RpcError,
  StoreEventTypes,
  StoreTemplates,
  storeNameProblem,
  type RolloutAnalysis,
  type RolloutSpec,
  type RolloutStep,
  type RpcActor,
  type RpcFieldError,
  type Store,
  type StoreEvent,
  type StorePod,
  type StoreTemplate,
} from '@flotilla/contracts';
import type { StoreSettings } from './store-repository.js';
import type { ClusterDriver } from '../drivers/cluster-driver.js';
import { CLUSTER_DRIVER } from '../drivers/driver.token.js';
import { namespaceFor } from '../drivers/ownership.js';
import { StoreJobs } from '../operations/store-jobs.js';
import { quotaProblem } from '../operations/quota-check.js';
import { analysisProblems } from '../operations/rollout-analysis.js';
import { describeSteps, stepsProblem } from '../operations/rollout-steps.js';
import { StoreOperations } from '../operations/store-operations.js';
import type { ProvisionerEnv } from '../provisioner.env.js';
import type { CreateStoreDto, UpdateStoreDto } from './dto/store.dto.js';
import { StoreRepository, storeView, type StoreRow } from './store-repository.js';
import { StoreSecrets } from './store-secrets.js';

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const MAX_REPLICAS = 20;
const QUOTA_LOCK = 0x5107e5; // advisory lock serialising the store count checks

/**
 * Stores as users ask for them: checks every request (422 naming each problem, before
 * anything reaches a driver), records the desired state and queues the operation.
 * Everything else happens in the jobs.
 */
@Injectable()
export class StoresService {
  constructor(
    private readonly repo: StoreRepository,
    private readonly jobs: StoreJobs,
    private readonly operations: StoreOperations,
    @Inject(CLUSTER_DRIVER) private readonly driver: ClusterDriver,
    @Inject(ENV) private readonly env: ProvisionerEnv,
  ) {}

  async create(input: CreateStoreDto, actor: RpcActor): Promise<Store> {
    if (!actor.teamId) throw new RpcError('UNPROCESSABLE', 'Stores belong to a team, and this account has none.');
    const problems: RpcFieldError[] = [];
    const nameProblem = storeNameProblem(input.name);
    if (nameProblem) problems.push({ path: 'name', message: `name ${JSON.stringify(input.name)} ${nameProblem}` });
    if (!(StoreTemplates as readonly string[]).includes(input.template)) {
      problems.push({ path: 'template', message: `template must be one of ${StoreTemplates.join(', ')}` });
    }
    const template = input.template as StoreTemplate;
    const version = input.version ?? (template === 'medusa' ? this.env.MEDUSA_DEFAULT_VERSION : this.env.WORDPRESS_DEFAULT_VERSION);
    const replicas = input.replicas ?? 1;
    const rollout = this.checkChanges({ version, replicas, rollout: input.rollout }, problems) ?? { strategy: 'BlueGreen' };
    if (problems.length > 0) throw new RpcError('UNPROCESSABLE', `The store was refused: ${problems.length} problem(s).`, problems);
    this.checkQuota(quotaProblem({ template, to: { revision: 1, replicas }, rollout }, this.operations.limits()));

    const id = randomUUID();
    const sealed = this.operations.secrets.seal(StoreSecrets.generate());
    const row = await this.repo.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock($1)`, [QUOTA_LOCK]);
      const [{ total, team, taken }] = (await m.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE team_id = $1)::int AS team, count(*) FILTER (WHERE name = $2)::int AS taken FROM stores`,
        [actor.teamId, input.name],
      )) as { total: number; team: number; taken: number }[];
      if (taken > 0) throw new RpcError('CONFLICT', `A store named ${input.name} exists already.`);
      if (total >= this.env.MAX_STORES) throw new RpcError('RATE_LIMITED', `The platform holds its maximum of ${this.env.MAX_STORES} stores; delete one first.`);
      if (team >= this.env.TEAM_STORE_QUOTA) throw new RpcError('RATE_LIMITED', `Your team has its quota of ${this.env.TEAM_STORE_QUOTA} stores; delete one first.`);
      const [created] = (await m.query(
        `INSERT INTO stores (id, team_id, created_by, name, namespace, template, status, revision, version, replicas, rollout, secrets)
         VALUES ($1, $2, $3, $4, $5, $6, 'provisioning', 1, $7, $8, $9, $10) RETURNING *`,
        [id, actor.teamId, actor.userId, input.name, namespaceFor(this.operations.ownership.namespacePrefix, input.name), template, version, replicas, JSON.stringify(rollout), sealed],
      )) as StoreRow[];
      await m.query(`INSERT INTO revisions (store_id, revision, version, replicas, rollout, status) VALUES ($1, 1, $2, $3, $4, 'pending')`, [
        id,
        version,
        replicas,
        JSON.stringify(rollout),
      ]);
      const message = `store requested: ${template} ${version}, ${replicas} replica(s)`;
      await this.repo.log(id, 'requested', message, m);
      await this.repo.publish(m, StoreEventTypes.Provisioning, created!, message, actor.userId);
      return created!;
    });
    this.repo.flush();
    await this.enqueue(row);
    return storeView(row, this.env);
  }

  async list(actor: RpcActor): Promise<{ items: Store[] }> {
    const rows = await this.repo.list(actor.role === 'admin' && !actor.teamId ? null : (actor.teamId ?? '00000000-0000-0000-0000-000000000000'));
    return { items: rows.map((r) => storeView(r, this.env)) };
  }

  async get(storeId: string, actor: RpcActor): Promise<Store> {
    return storeView(await this.findScoped(storeId, actor), this.env);
  }

  /**
   * A new version (or rollout) starts a new revision, rolled out by its strategy; a
   * replica change alone scales the current revision. One operation at a time: a store
   * being provisioned, updated or deleted answers 409.
   */
  async update(storeId: string, changes: UpdateStoreDto, actor: RpcActor, settings?: StoreSettings): Promise<Store> {
    const row = await this.findScoped(storeId, actor);
    const problems: RpcFieldError[] = [];
    // What runs now: after a rollback that is the stable revision, not the one asked for last.
    const stable = row.stable_revision !== null ? await this.repo.revision(row.id, row.stable_revision) : undefined;
    const version = changes.version ?? stable?.version ?? row.version;
    const replicas = changes.replicas ?? row.replicas;
    const rollout = this.checkChanges({ version, replicas, rollout: changes.rollout }, problems) ?? row.rollout;
    if (problems.length > 0) throw new RpcError('UNPROCESSABLE', `The change was refused: ${problems.length} problem(s).`, problems);
    if (changes.version === undefined && changes.replicas === undefined && changes.rollout === undefined) {
      throw new RpcError('UNPROCESSABLE', 'Nothing to change: give a version, replicas or a rollout.');
    }
    if (!['ready', 'degraded', 'failed'].includes(row.status)) {
      throw new RpcError('CONFLICT', `Store ${row.name} is ${row.status}; try again once that is finished.`);
    }
    // New env or probes need new pods: a new revision, rolled out like a new version.
    const newRevision = !stable || version !== stable.version || changes.rollout !== undefined || (settings?.restart ?? false);
    const revision = newRevision ? row.revision + 1 : stable.revision;
    // Before Helm: the rollout's peak (both revisions for blue/green) must fit the namespace quota.
    const from = stable ? { revision: stable.revision, replicas: stable.replicas } : undefined;
    this.checkQuota(quotaProblem({ template: row.template, from, to: { revision, replicas }, rollout }, this.operations.limits()));
    const updated = await this.repo.dataSource.transaction(async (m) => {
      const message = newRevision
        ? `update requested: revision ${revision} with ${version}, ${replicas} replica(s), ${rollout.strategy}${rollout.steps ? ` ${describeSteps(rollout.steps)}` : ''}`
        : `scale requested: revision ${revision} from ${stable?.replicas ?? row.replicas} to ${replicas} replica(s)`;
      const next = await this.repo.transition(
        row.id,
        // A new rollout starts unsteered: nothing held, no command left from an aborted one.
        { set: { status: 'updating', error: null, revision, version, replicas, rollout, rollout_state: null, rollout_paused: false, rollout_command: null, ...(settings ? { env: settings.env, probes: settings.probes, autoscale: settings.autoscale } : {}) }, whenStatus: ['ready', 'degraded', 'failed'] },
        { type: 'requested', message, publish: StoreEventTypes.Updating, actor: actor.userId },
        m,
      );
      if (!next) throw new RpcError('CONFLICT', `Store ${row.name} is busy with another operation; try again once it is finished.`);
      if (newRevision) {
        await m.query(`INSERT INTO revisions (store_id, revision, version, replicas, rollout, status) VALUES ($1, $2, $3, $4, $5, 'pending')`, [
          row.id,
          revision,
          version,
          replicas,
          JSON.stringify(rollout),
        ]);
      }
      return next;
    });
    this.repo.flush();
    await this.enqueue(updated);
    return storeView(updated, this.env);
  }

  async delete(storeId: string, actor: RpcActor): Promise<Store> {
    const row = await this.findScoped(storeId, actor);
    if (row.status === 'deleting') throw new RpcError('CONFLICT', `Store ${row.name} is being deleted already.`);
    const deleting = await this.repo.transition(
      row.id,
      { set: { status: 'deleting' }, whenStatus: ['provisioning', 'ready', 'updating', 'degraded', 'failed'] },
      { type: 'deleting', message: 'deletion requested', publish: StoreEventTypes.Deleting, actor: actor.userId },
    );
    if (!deleting) throw new RpcError('CONFLICT', `Store ${row.name} is being deleted already.`);
    await this.enqueue(deleting);
    return storeView(deleting, this.env);
  }

  async pods(storeId: string, actor: RpcActor): Promise<{ items: StorePod[] }> {
    const row = await this.findScoped(storeId, actor);
    const observed = await this.driver.observe(this.operations.ref(row));
    return { items: observed.pods };
  }

  async events(storeId: string, actor: RpcActor): Promise<{ items: StoreEvent[] }> {
    const row = await this.findScoped(storeId, actor);
    return { items: await this.repo.events(row.id) };
  }

  /** Admins only: kills pods of a store, to see the platform repair it. Audited as `store.chaos`. */
  async chaos(storeId: string, killPods: number, actor: RpcActor, holdPods?: boolean): Promise<{ storeId: string; killed: string[]; held?: boolean }> {
    if (actor.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators run chaos experiments.');
    // 0 only with holdPods: holding or releasing a store's pods without killing any.
    const least = holdPods === undefined ? 1 : 0;
    if (killPods < least || killPods > 100) throw new RpcError('UNPROCESSABLE', `killPods must be between ${least} and 100.`, [{ path: 'killPods', message: `must be between ${least} and 100` }]);
    const row = await this.findScoped(storeId, actor);
    if (holdPods !== undefined && !this.driver.holdPods) {
      throw new RpcError('UNPROCESSABLE', `holdPods needs the simulated cluster; this provisioner runs the ${this.driver.kind} driver.`, [{ path: 'holdPods', message: 'simulated driver only' }]);
    }
    // Held before the kill, so the replacements cannot start in between.
    if (holdPods !== undefined) await this.driver.holdPods?.(this.operations.ref(row), holdPods);
    const killed = await this.driver.killPods(this.operations.ref(row), killPods);
    const held = holdPods === undefined ? '' : holdPods ? '; its pods are kept from being scheduled' : '; its pods may be scheduled again';
    const message = `chaos: ${killed.length} pod(s) killed by an administrator (${killed.join(', ') || 'none running'})${held}`;
    await this.repo.dataSource.transaction(async (m) => {
      await this.repo.log(row.id, 'chaos', message, m);
      await this.repo.publish(m, StoreEventTypes.Chaos, row, message, actor.userId);
    });
    this.repo.flush();
    return { storeId: row.id, killed, ...(holdPods !== undefined ? { held: holdPods } : {}) };
  }

  /** Queues the store's operation; if Redis is away the reconcile loop queues it later, so nothing is lost. */
  private async enqueue(row: StoreRow): Promise<void> {
    await this.jobs.enqueue(row).catch(() => undefined);
  }

  private checkQuota(problem: string | undefined): void {
    if (problem) throw new RpcError('UNPROCESSABLE', `The namespace quota cannot hold this: ${problem}.`, [{ path: 'replicas', message: problem }]);
  }

  private checkChanges(
    input: { version: string; replicas: number; rollout?: { strategy: string; steps?: RolloutStep[]; scaleDownDelaySeconds?: number; analysis?: unknown } },
    problems: RpcFieldError[],
  ): RolloutSpec | undefined {
    if (!VERSION_PATTERN.test(input.version)) problems.push({ path: 'version', message: 'version must be an image tag: letters, digits, ".", "_" and "-", at most 63' });
    if (!Number.isInteger(input.replicas) || input.replicas < 1 || input.replicas > MAX_REPLICAS) {
      problems.push({ path: 'replicas', message: `replicas must be between 1 and ${MAX_REPLICAS}` });
    }
    if (!input.rollout) return undefined;
    const { strategy, steps, scaleDownDelaySeconds: delay, analysis } = input.rollout;
    if (!(RolloutStrategies as readonly string[]).includes(strategy)) problems.push({ path: 'rollout.strategy', message: `strategy must be one of ${RolloutStrategies.join(', ')}` });
    if (steps !== undefined) {
      const problem = strategy === 'Canary' ? stepsProblem(steps) : 'steps are for the Canary strategy only';
      if (problem) problems.push({ path: 'rollout.steps', message: problem });
    }
    if (delay !== undefined) {
      if (strategy !== 'BlueGreen') problems.push({ path: 'rollout.scaleDownDelaySeconds', message: 'scaleDownDelaySeconds is for the BlueGreen strategy only' });
      else if (!Number.isInteger(delay) || delay < 0 || delay > 3600) problems.push({ path: 'rollout.scaleDownDelaySeconds', message: 'scaleDownDelaySeconds must be 0 to 3600' });
    }
    if (analysis !== undefined) problems.push(...analysisProblems(analysis, strategy));
    return {
      strategy: strategy as RolloutSpec['strategy'],
      ...(steps ? { steps } : {}),
      ...(delay !== undefined ? { scaleDownDelaySeconds: delay } : {}),
      ...(analysis !== undefined ? { analysis: pickAnalysis(analysis as RolloutAnalysis) } : {}),
    };
  }

  /** The store if the caller may see it; another team's id is simply not found. */
  async findScoped(storeId: string, actor: RpcActor): Promise<StoreRow> {
    const row = await this.repo.find(storeId);
    if (!row || !mayAccessTeam(actor, row.team_id)) throw new RpcError('NOT_FOUND', `Store ${storeId} does not exist.`);
    return row;
  }
}

/** The analysis as kept (its four fields, nothing else a caller sent along). */
function pickAnalysis({ interval, successCondition, failureLimit, onNoData }: RolloutAnalysis): RolloutAnalysis {
  return { interval, successCondition, failureLimit, onNoData };
}
