import { Module } from '@nestjs/common';
import { FlotillaConfigModule } from '@flotilla/config';
import { RabbitModule, RedisModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { PersistenceModule } from '@flotilla/persistence';
import { Votes1732400000000 } from './migrations/1732400000000-votes.js';
import { PollsModule } from './polls/polls.module.js';
import { VoteConsumerEnv } from './vote-consumer.env.js';
import { VotesModule } from './votes/votes.module.js';

@Module({
  imports: [
    FlotillaConfigModule.forRoot(VoteConsumerEnv),
    ObservabilityModule,
    // No entities: votes are written set-based (unnest) and read with plain SQL.
    PersistenceModule.forRoot({ owner: 'votes', entities: [], migrations: [Votes1732400000000] }),
    RedisModule.forRoot({ connectionName: 'vote-consumer' }),
    RabbitModule.forRoot({ service: 'vote-consumer', serve: 'votes' }),
    PollsModule,
    VotesModule,
  ],
})
export class AppModule {}
