import { Injectable, NotFoundException } from '@nestjs/common';
import { ProvisionerRpc, type CreateStoreDto, type StoreSpecChange, type StoreSpecDocument, type RolloutAction, type Store, type StoreEvent, type StoreHealth, type StoreList, type StorePod, type UpdateStoreDto } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';
import type { AuthUser } from '@flotilla/auth';
import { actorOf } from '../datasets/datasets.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Stores are owned by `provisioner`; the gateway asks it on the caller's behalf. */
@Injectable()
export class StoresService {
  constructor(private readonly rpc: RpcClient) {}

  create(input: CreateStoreDto, user: AuthUser): Promise<Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.Create, input, { actor: actorOf(user) });
  }

  list(user: AuthUser): Promise<StoreList> {
    return this.rpc.call('provisioner', ProvisionerRpc.List, {}, { actor: actorOf(user) });
  }

  get(id: string, user: AuthUser): Promise<Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.Get, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  update(id: string, changes: UpdateStoreDto, user: AuthUser): Promise<Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.Update, { storeId: checkId(id), changes }, { actor: actorOf(user) });
  }

  delete(id: string, user: AuthUser): Promise<Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.Delete, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  pods(id: string, user: AuthUser): Promise<{ items: StorePod[] }> {
    return this.rpc.call('provisioner', ProvisionerRpc.Pods, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  events(id: string, user: AuthUser): Promise<{ items: StoreEvent[] }> {
    return this.rpc.call('provisioner', ProvisionerRpc.Events, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  health(id: string, user: AuthUser): Promise<StoreHealth> {
    return this.rpc.call('provisioner', ProvisionerRpc.Health, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  chaos(id: string, killPods: number, user: AuthUser, holdPods?: boolean): Promise<{ storeId: string; killed: string[]; held?: boolean }> {
    return this.rpc.call('provisioner', ProvisionerRpc.Chaos, { storeId: checkId(id), killPods, ...(holdPods !== undefined ? { holdPods } : {}) }, { actor: actorOf(user) });
  }

  rollout(id: string, action: RolloutAction, full: boolean, user: AuthUser): Promise<Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.Rollout, { storeId: checkId(id), action, ...(full ? { full } : {}) }, { actor: actorOf(user) });
  }

  spec(id: string, user: AuthUser): Promise<StoreSpecDocument> {
    return this.rpc.call('provisioner', ProvisionerRpc.GetSpec, { storeId: checkId(id) }, { actor: actorOf(user) });
  }

  putSpec(id: string, document: unknown, dryRun: boolean, user: AuthUser): Promise<{ diff: StoreSpecChange[] } | Store> {
    return this.rpc.call('provisioner', ProvisionerRpc.PutSpec, { storeId: checkId(id), document: document ?? null, ...(dryRun ? { dryRun } : {}) }, { actor: actorOf(user) });
  }

  load(id: string, cpuPercent: number, user: AuthUser): Promise<{ storeId: string; cpuPercent: number }> {
    return this.rpc.call('provisioner', ProvisionerRpc.Load, { storeId: checkId(id), cpuPercent }, { actor: actorOf(user) });
  }
}

function checkId(id: string): string {
  if (!UUID.test(id)) throw new NotFoundException(`Store ${id} does not exist.`);
  return id;
}
