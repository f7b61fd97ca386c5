import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { ChaosRequestDto, CreateStoreDto, StoreLoadRequestDto, UpdateStoreDto, type Store, type StoreEvent, type StoreHealth, type StoreList, type StorePod } from '@flotilla/contracts';
import { StoresService } from './stores.service.js';
import { Endpoint } from '../http/openapi/endpoint.js';
import { StoreChaosResultDto, StoreDto, StoreEventListDto, StoreHealthDto, StoreListDto, StoreLoadResultDto, StorePodListDto } from './dto/store-responses.dto.js';

@ApiTags('stores')
@Controller()
export class StoresController {
  constructor(private readonly stores: StoresService) {}

  @Post('stores')
  @HttpCode(202)
  @Endpoint({
    id: 'createStore',
    summary: 'Create a store',
    description:
      "Provisions a store for the caller's team. 409 for a taken name; 422 for a bad name or template, or when the rollout's peak exceeds the namespace quota (the detail names the resource, what is needed and the limit); 429 when the platform or team quota is full.",
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 409, 422],
    quota429: "the platform's or the team's store quota is full (delete a store first)",
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, provisioning; 409 for a taken name, 422 for a bad name or template or when the rollout\'s peak (pods × requests, databases included) exceeds the namespace quota — the detail names the resource, what is needed and the limit; 429 when the platform or team quota is full' })
  create(@Body() body: CreateStoreDto, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.create(body, user);
  }

  @Get('stores')
  @Endpoint({ id: 'listStores', summary: 'List stores', description: "The caller's team's stores with their desired and observed state.", access: 'user', slow: true, problems: [403] })
  @ApiOkResponse({ type: StoreListDto, description: "The caller's team's stores" })
  list(@CurrentUser() user: AuthUser): Promise<StoreList> {
    return this.stores.list(user);
  }

  @Get('stores/:id')
  @Endpoint({ id: 'getStore', summary: 'Get a store', description: "Desired and observed state; 404 for an unknown store or another team's.", access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({ type: StoreDto, description: 'Desired and observed state' })
  get(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.get(id, user);
  }

  @Get('stores/:id/pods')
  @Endpoint({ id: 'listStorePods', summary: "A store's pods", description: 'Pods with phase, readiness, restarts and revision; 404 for an unknown store.', access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({ type: StorePodListDto, description: 'Pods with phase, readiness, restarts and revision' })
  pods(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<{ items: StorePod[] }> {
    return this.stores.pods(id, user);
  }

  @Get('stores/:id/events')
  @Endpoint({ id: 'listStoreEvents', summary: "A store's events", description: 'Provisioning steps, rollouts, rollbacks, repairs and failures, oldest first; 404 for an unknown store.', access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({ type: StoreEventListDto, description: 'Provisioning steps, rollouts, rollbacks, repairs and failures, oldest first' })
  events(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<{ items: StoreEvent[] }> {
    return this.stores.events(id, user);
  }

  @Get('stores/:id/health')
  @Endpoint({ id: 'getStoreHealth', summary: "A store's health", description: 'Observed health: up, down or unknown, since when, its transitions and what blocks while down.', access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({
    type: StoreHealthDto,
    description:
      'Observed health (API.md): `{status: up|down|unknown, since, transitions: [{at, from, to, reason}]}`, plus `reason` (what blocks while down) and `checkedAt` (the last check). ' +
      'Down after two reconcile periods without a ready pod (the store is then `degraded`, the reason as its error; `ready` again when up), ' +
      "with what blocks (pending pods and why, crash loops, failing readiness probes, the quota); 404 for another team's store",
  })
  health(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<StoreHealth> {
    return this.stores.health(id, user);
  }

  @Patch('stores/:id')
  @HttpCode(202)
  @Endpoint({
    id: 'updateStore',
    summary: 'Update a store',
    description: "Changes a store's template, version, replicas or rollout. 404 for an unknown store; 409 while another operation runs; 422 when the rollout's peak exceeds the namespace quota.",
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 404, 409, 422],
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, updating; 409 while another operation runs; 422 when the update\'s rollout peak (both revisions for blue/green, the largest canary step) exceeds the namespace quota, with the numbers' })
  update(@Param('id') id: string, @Body() body: UpdateStoreDto, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.update(id, body, user);
  }

  @Delete('stores/:id')
  @HttpCode(202)
  @Endpoint({ id: 'deleteStore', summary: 'Delete a store', description: 'Tears the store down; the record goes once the cluster side is gone. 404 for an unknown store; 409 if already deleting.', access: 'user', slow: true, problems: [403, 404, 409] })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, deleting; the record goes once the cluster side is gone; 409 if already deleting' })
  delete(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.delete(id, user);
  }

  @Post('admin/stores/:id/chaos')
  @Roles('admin')
  @HttpCode(202)
  @Endpoint({
    id: 'runStoreChaos',
    summary: "Kill a store's pods",
    description: 'A chaos experiment (simulated cluster only; 422 otherwise): pods killed, restored by the cluster and the reconcile loop unless `holdPods`. 404 for an unknown store.',
    access: 'admin',
    body: true,
    slow: true,
    problems: [404, 409, 422],
  })
  @ApiAcceptedResponse({ type: StoreChaosResultDto, description: 'Pods killed; the cluster and the reconcile loop restore them, unless holdPods keeps them from being scheduled (simulated cluster only; 422 otherwise)' })
  chaos(@Param('id') id: string, @Body() body: ChaosRequestDto, @CurrentUser() user: AuthUser): Promise<{ storeId: string; killed: string[]; held?: boolean }> {
    return this.stores.chaos(id, body.killPods, user, body.holdPods);
  }

  @Post('admin/stores/:id/load')
  @Roles('admin')
  @HttpCode(202)
  @Endpoint({
    id: 'setStoreLoad',
    summary: "Set a store's simulated load",
    description: "Simulated cluster only: the store's pods use `cpuPercent` of their CPU request, to watch autoscaling. 404 for an unknown store; 409 with the kubernetes driver or without a running namespace; 422 out of range.",
    access: 'admin',
    body: true,
    slow: true,
    problems: [404, 409, 422],
  })
  @ApiAcceptedResponse({
    type: StoreLoadResultDto,
    description:
      "Simulated cluster only: the store's pods use cpuPercent (0–1000) of their CPU request from now on, so its autoscaling can be watched; 404 for an unknown store, 409 with the kubernetes driver or while the store has no running namespace, 422 out of range",
  })
  load(@Param('id') id: string, @Body() body: StoreLoadRequestDto, @CurrentUser() user: AuthUser): Promise<{ storeId: string; cpuPercent: number }> {
    return this.stores.load(id, body.cpuPercent, user);
  }
}
