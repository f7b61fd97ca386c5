import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule, JwtAuthGuard, RolesGuard } from '@flotilla/auth';
import { ENV, FlotillaConfigModule } from '@flotilla/config';
import { Outbox, RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import { AdminIdentityController } from './admin/admin-identity.controller.js';
import { AdminTeamQuotaController } from './admin/admin-team-quota.controller.js';
import { AdminConsoleController } from './admin-console/admin-console.controller.js';
import { AdminConsoleService } from './admin-console/admin-console.service.js';
import { NotificationsController } from './admin-console/notifications.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { DatasetsController } from './datasets/datasets.controller.js';
import { DatasetsService } from './datasets/datasets.service.js';
import { ValidationController } from './datasets/validation.controller.js';
import { ValidationUpdates } from './datasets/validation-updates.js';
import { StatusRoute } from './datasets/status.route.js';
import { StoresController } from './stores/stores.controller.js';
import { StoreRolloutController } from './stores/store-rollout.controller.js';
import { StoreSpecController } from './stores/store-spec.controller.js';
import { StoresService } from './stores/stores.service.js';
import { GatewayEnv } from './gateway.env.js';
import { AuditLog } from './identity/audit-log.js';
import { activeUserCheckProvider } from './identity/active-user.check.js';
import { EventStreamsShutdown } from './http/event-stream.js';
import { IdentityService } from './identity/identity.service.js';
import { revocationCheckProvider, TokenVersions } from './identity/token-versions.js';
import { UserAdministration } from './identity/user-administration.service.js';
import { RefreshToken } from './identity/refresh-token.entity.js';
import { Team } from './identity/team.entity.js';
import { User } from './identity/user.entity.js';
import { Identity1732300000000 } from './migrations/1732300000000-identity.js';
import { IdentityOutbox1733000000000 } from './migrations/1733000000000-identity-outbox.js';
import { OutboxClaims1733400000000 } from './migrations/1733400000000-outbox-claims.js';
import { UserRevocation1733600000000 } from './migrations/1733600000000-user-revocation.js';
import { PollCache } from './polls/poll-cache.js';
import { PollsController } from './polls/polls.controller.js';
import { PollsService } from './polls/polls.service.js';
import { VoteRoute } from './polls/vote.route.js';
import { RateLimitGuard } from './rate-limit/rate-limit.guard.js';
import { RateLimiter } from './rate-limit/rate-limiter.service.js';
import { RequestLogService } from './request-log/request-log.service.js';

const entities = [Team, User, RefreshToken];

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'identity', entities, migrations: [Identity1732300000000, IdentityOutbox1733000000000, OutboxClaims1733400000000, UserRevocation1733600000000] };

@Module({
  imports: [
    FlotillaConfigModule.forRoot(GatewayEnv),
    ObservabilityModule,
    PersistenceModule.forRoot(PERSISTENCE),
    TypeOrmModule.forFeature(entities),
    // Every vote is an XADD: pipelining them per event-loop turn saves a write each.
    RedisModule.forRoot({ autoPipelining: true }),
    RabbitModule.forRoot({ service: 'gateway' }),
    JwtModule.register({}),
    AuthModule.forRoot({
      secret: { inject: [ENV], useFactory: (env: GatewayEnv) => env.JWT_SECRET },
      providers: [activeUserCheckProvider, TokenVersions, revocationCheckProvider],
      exports: [TokenVersions],
    }),
  ],
  controllers: [AuthController, AdminIdentityController, AdminTeamQuotaController, PollsController, DatasetsController, ValidationController, StoresController, StoreRolloutController, StoreSpecController, AdminConsoleController, NotificationsController],
  providers: [
    Outbox,
    AuditLog,
    IdentityService,
    UserAdministration,
    AuthService,
    RateLimiter,
    RequestLogService,
    PollCache,
    PollsService,
    VoteRoute,
    DatasetsService,
    ValidationUpdates,
    StatusRoute,
    StoresService,
    AdminConsoleService,
    EventStreamsShutdown,
    // Order matters: who the caller is, then what they may do, then how often.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
})
export class AppModule {}
