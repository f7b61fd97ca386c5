import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ProvisionerAdminRpc, ProvisionerRpc, RpcError, type RpcActor } from '@flotilla/contracts';
import { StoreJobs } from '../operations/store-jobs.js';
import { StoreHealthRepository } from './store-health-repository.js';
import { StoreRepository } from './store-repository.js';
import { RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { ChaosDto, CreateStoreDto, StoreRefDto, UpdateStoreRequestDto } from './dto/store.dto.js';
import { StoresService } from './stores.service.js';

/** The `provisioner.*` RPC patterns; every call runs on behalf of an actor and is scoped to its team. */
@Injectable()
export class StoresRpc implements OnModuleInit {
  constructor(
    private readonly stores: StoresService,
    private readonly server: RpcServer,
    private readonly repo: StoreRepository,
    private readonly jobs: StoreJobs,
    private readonly health: StoreHealthRepository,
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
    // The admin's figures: stores by status and the provisioner's jobs by state.
    this.server.handle(ProvisionerAdminRpc.Counts, async (_, meta) => {
      if (actor(meta).role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators read the platform figures.');
      const [byStatus, jobs] = await Promise.all([this.repo.countByStatus(), this.jobs.counts().catch(() => ({}))]);
      return { byStatus, jobs };
    });
  }
}

function actor(meta: RpcRequestMeta): RpcActor {
  if (!meta.actor) throw new RpcError('FORBIDDEN', 'Store calls need the caller as actor.');
  return meta.actor;
}
