import { Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { Outbox, RabbitModule, RedisModule } from '@flotilla/messaging';
import { HealthRegistry, ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import type { ClusterDriver } from './drivers/cluster-driver.js';
import { clusterDriverProvider } from './drivers/driver.provider.js';
import { CLUSTER_DRIVER } from './drivers/driver.token.js';
import { Provisioner1732700000000 } from './migrations/1732700000000-provisioner.js';
import { OutboxClaims1733400000000 } from './migrations/1733400000000-outbox-claims.js';
import { StoreNamespace1733500000000 } from './migrations/1733500000000-store-namespace.js';
import { StoreHealthRepository } from './stores/store-health-repository.js';
import { StoreHealth1733600000000 } from './migrations/1733600000000-store-health.js';
import { RolloutControl1733700000000 } from './migrations/1733700000000-rollout-control.js';
import { StoreSpec1733800000000 } from './migrations/1733800000000-store-spec.js';
import { StoreJobs } from './operations/store-jobs.js';
import { StoreLock } from './operations/store-lock.js';
import { StoreOperations } from './operations/store-operations.js';
import { ProvisionerEnv } from './provisioner.env.js';
import { StoreRepository } from './stores/store-repository.js';
import { RolloutActions } from './stores/rollout-actions.js';
import { StoreSpecs } from './stores/store-specs.js';
import { StoresRpc } from './stores/stores.rpc.js';
import { StoresService } from './stores/stores.service.js';

/** Readiness `cluster`: the driver answers. Closes the driver last. */
@Injectable()
class ClusterLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(CLUSTER_DRIVER) private readonly driver: ClusterDriver,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register('cluster', () => this.driver.check());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.driver.close();
  }
}

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'provisioner', entities: [], migrations: [Provisioner1732700000000, OutboxClaims1733400000000, StoreNamespace1733500000000, StoreHealth1733600000000, RolloutControl1733700000000, StoreSpec1733800000000] };

@Module({
  imports: [
    FlotillaConfigModule.forRoot(ProvisionerEnv),
    ObservabilityModule,
    PersistenceModule.forRoot(PERSISTENCE),
    RedisModule.forRoot({ connectionName: 'provisioner' }),
    RabbitModule.forRoot({ service: 'provisioner', serve: 'provisioner' }),
  ],
  providers: [clusterDriverProvider, ClusterLifecycle, Outbox, StoreRepository, StoreHealthRepository, StoreLock, StoreOperations, StoreJobs, StoresService, RolloutActions, StoreSpecs, StoresRpc],
})
export class AppModule {}
