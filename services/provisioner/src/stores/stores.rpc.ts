import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { IsUUID } from 'class-validator';
import {
  AuditActions,
  ProvisionerAdminRpc,
  ProvisionerRpc,
  RpcError,
  STORE_LOAD_MAX_CPU_PERCENT,
  StoreLoadRequestDto,
  type AuditEventData,
  type RpcActor,
} from '@flotilla/contracts';
import type { ClusterDriver } from '../drivers/cluster-driver.js';
import { CLUSTER_DRIVER } from '../drivers/driver.token.js';
import { SimulatedDriver } from '../drivers/simulated/index.js';
import { StoreJobs } from '../operations/store-jobs.js';
import { StoreOperations } from '../operations/store-operations.js';
import { StoreHealthRepository } from './store-health-repository.js';
import { StoreRepository } from './store-repository.js';
import { Outbox, RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { ChaosDto, CreateStoreDto, RolloutActionRequestDto, StoreRefDto, StoreSpecRequestDto, UpdateStoreRequestDto } from './dto/store.dto.js';
import { RolloutActions } from './rollout-actions.js';
import { StoreSpecs } from './store-specs.js';
import { StoresService } from './stores.service.js';

class StoreLoadDto extends StoreLoadRequestDto {
  @IsUUID()
  storeId: string;
}

/** The `provisioner.*` RPC patterns; every call runs on behalf of an actor and is scoped to its team. */
@Injectable()
export class StoresRpc implements OnModuleInit {
  constructor(
    private readonly stores: StoresService,
    private readonly server: RpcServer,
    private readonly repo: StoreRepository,
    private readonly jobs: StoreJobs,
    private readonly health: StoreHealthRepository,
    private readonly operations: StoreOperations,
    private readonly outbox: Outbox,
    @Inject(CLUSTER_DRIVER) private readonly driver: ClusterDriver,
    private readonly rollouts: RolloutActions,
    private readonly specs: StoreSpecs,
  ) {}

  onModuleInit(): void {
    this.server.handle(ProvisionerRpc.Create, async (p, meta) => this.stores.create(await validatePayload(CreateStoreDto, p), actor(meta)));
    this.server.handle(ProvisionerRpc.List, async (_, meta) => this.stores.list(actor(meta)));
    this.server.handle(ProvisionerRpc.Get, async (p, meta) => this.stores.get((await validatePayload(StoreRefDto, p)).storeId, actor(meta)));
    this.server.handle(ProvisionerRpc.Update, async (p, meta) => {
      const { storeId, changes } = await validatePayload(UpdateStoreRequestDto, p);
      return this.stores.update(storeId, changes, actor(meta));
    });
    this.server.handle(ProvisionerRpc.Delete, async (p, meta) => this.stores.delete((await validatePayload(StoreRefDto, p)).storeId, actor(meta)));
    this.server.handle(ProvisionerRpc.Pods, async (p, meta) => this.stores.pods((await validatePayload(StoreRefDto, p)).storeId, actor(meta)));
    this.server.handle(ProvisionerRpc.Events, async (p, meta) => this.stores.events((await validatePayload(StoreRefDto, p)).storeId, actor(meta)));
    // Team-scoped like every store read: another team's store answers NOT_FOUND.
    this.server.handle(ProvisionerRpc.Health, async (p, meta) => {
      const row = await this.stores.findScoped((await validatePayload(StoreRefDto, p)).storeId, actor(meta));
      return this.health.view(row.id);
    });
    this.server.handle(ProvisionerRpc.Chaos, async (p, meta) => {
      const { storeId, killPods, holdPods } = await validatePayload(ChaosDto, p);
      return this.stores.chaos(storeId, killPods, actor(meta), holdPods);
    });
    this.server.handle(ProvisionerRpc.Rollout, async (p, meta) => {
      const { storeId, action, full } = await validatePayload(RolloutActionRequestDto, p);
      return this.rollouts.act(storeId, action, full ?? false, actor(meta));
    });
    this.server.handle(ProvisionerRpc.GetSpec, async (p, meta) => this.specs.get((await validatePayload(StoreRefDto, p)).storeId, actor(meta)));
    this.server.handle(ProvisionerRpc.PutSpec, async (p, meta) => {
      const { document, ...request } = (p ?? {}) as { document?: unknown };
      const { storeId, dryRun } = await validatePayload(StoreSpecRequestDto, request);
      if (document === undefined) throw new RpcError('UNPROCESSABLE', 'A store spec document is needed.', [{ path: 'document', message: 'is required' }]);
      return this.specs.put(storeId, document, dryRun ?? false, actor(meta));
    });
    this.server.handle(ProvisionerRpc.Load, async (p, meta) => this.load(await validatePayload(StoreLoadDto, p), actor(meta)));
    // The admin's figures: stores by status and the provisioner's jobs by state.
    this.server.handle(ProvisionerAdminRpc.Counts, async (_, meta) => {
      if (actor(meta).role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators read the platform figures.');
      const [byStatus, jobs] = await Promise.all([this.repo.countByStatus(), this.jobs.counts().catch(() => ({}))]);
      return { byStatus, jobs };
    });
  }

  /**
   * Admins only, simulated cluster only: the store's pods use `cpuPercent` of their CPU
   * request from now on, so its autoscaling can be watched. A store event, and audited
   * as `store.load` (the admin service records every `audit.*` event).
   */
  private async load({ storeId, cpuPercent }: StoreLoadDto, caller: RpcActor): Promise<{ storeId: string; cpuPercent: number }> {
    if (caller.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators set the load of a store.');
    if (cpuPercent < 0 || cpuPercent > STORE_LOAD_MAX_CPU_PERCENT) {
      const message = `must be between 0 and ${STORE_LOAD_MAX_CPU_PERCENT}`;
      throw new RpcError('UNPROCESSABLE', `cpuPercent ${message}.`, [{ path: 'cpuPercent', message }]);
    }
    const row = await this.stores.findScoped(storeId, caller);
    if (!(this.driver instanceof SimulatedDriver)) {
      throw new RpcError('CONFLICT', `Load is simulated: it needs the simulated cluster driver, and this provisioner runs the ${this.driver.kind} driver.`);
    }
    try {
      await this.driver.applyLoad(this.operations.ref(row), cpuPercent);
    } catch (error) {
      // The namespace is not there (yet, or any more): nothing runs that could take load.
      throw new RpcError('CONFLICT', `Store ${row.name} has no running namespace to load (status ${row.status}): ${(error as Error).message}.`);
    }
    const message = `load: cpu set to ${cpuPercent}% of each pod's request by an administrator`;
    const audit: AuditEventData = {
      action: AuditActions.StoreLoad,
      outcome: 'success',
      actorId: caller.userId,
      target: `store:${row.id}`,
      details: { name: row.name, teamId: row.team_id, cpuPercent },
    };
    await this.repo.dataSource.transaction(async (m) => {
      await this.repo.log(row.id, 'load', message, m);
      await this.outbox.add(m, `audit.${AuditActions.StoreLoad}`, audit);
    });
    this.outbox.flush();
    return { storeId: row.id, cpuPercent };
  }
}

function actor(meta: RpcRequestMeta): RpcActor {
  if (!meta.actor) throw new RpcError('FORBIDDEN', 'Store calls need the caller as actor.');
  return meta.actor;
}
