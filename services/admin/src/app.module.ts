import { Module } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { Outbox, RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import { AdminEnv } from './admin.env.js';
import { AdminRpcHandlers } from './admin.rpc.js';
import { AuditLog } from './audit/audit-log.js';
import { Cleanup } from './cleanup/cleanup.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { ServiceMonitor } from './health/service-monitor.js';
import { Admin1732800000000 } from './migrations/1732800000000-admin.js';
import { DeadLetterStates1733350000000 } from './migrations/1733350000000-dead-letter-states.js';
import { OutboxClaims1733400000000 } from './migrations/1733400000000-outbox-claims.js';
import { ServiceStopped1733410000000 } from './migrations/1733410000000-service-stopped.js';
import { Notifications1733700000000 } from './migrations/1733700000000-notifications.js';
import { NotificationChannels } from './notifications/channels.js';
import { NotificationDeliverer } from './notifications/deliverer.js';
import { NotificationEventSources } from './notifications/event-sources.js';
import { RequestLog } from './requests/request-log.js';
import { Stats } from './stats/stats.js';

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'admin', entities: [], migrations: [Admin1732800000000, DeadLetterStates1733350000000, OutboxClaims1733400000000, ServiceStopped1733410000000, Notifications1733700000000] };

@Module({
  imports: [
    FlotillaConfigModule.forRoot(AdminEnv),
    ObservabilityModule,
    PersistenceModule.forRoot(PERSISTENCE),
    RedisModule.forRoot({ connectionName: 'admin' }),
    RabbitModule.forRoot({ service: 'admin', serve: 'admin' }),
  ],
  providers: [Outbox, RequestLog, AuditLog, NotificationDeliverer, NotificationChannels, NotificationEventSources, ServiceMonitor, DeadLetters, Cleanup, Stats, AdminRpcHandlers],
})
export class AppModule {}
