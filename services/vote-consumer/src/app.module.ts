import { Module } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule, type PersistenceOptions } from '@flotilla/persistence';
import { Votes1732400000000 } from './migrations/1732400000000-votes.js';
import { BallotsFillfactor1733200000000 } from './migrations/1733200000000-ballots-fillfactor.js';
import { VoteIdentity1733500000000 } from './migrations/1733500000000-vote-identity.js';
import { PollsModule } from './polls/polls.module.js';
import { VoteConsumerEnv } from './vote-consumer.env.js';
import { VotesModule } from './votes/votes.module.js';

/** This service's schema and migrations (also run alone with MIGRATE_ONLY=true). */
export const PERSISTENCE: PersistenceOptions = { owner: 'votes', entities: [], migrations: [Votes1732400000000, BallotsFillfactor1733200000000, VoteIdentity1733500000000] };

@Module({
  imports: [
    FlotillaConfigModule.forRoot(VoteConsumerEnv),
    ObservabilityModule,
    // No entities: votes are written set-based (one statement per batch) and read with plain SQL.
    PersistenceModule.forRoot(PERSISTENCE),
    RedisModule.forRoot({ connectionName: 'vote-consumer' }),
    RabbitModule.forRoot({ service: 'vote-consumer', serve: 'votes' }),
    PollsModule,
    VotesModule,
  ],
})
export class AppModule {}
