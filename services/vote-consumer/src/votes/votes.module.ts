import { Module } from '@nestjs/common';
import { PollsModule } from '../polls/polls.module.js';
import { VotesConsumer } from './votes.consumer.js';
import { VotesService } from './votes.service.js';

@Module({
  imports: [PollsModule],
  providers: [VotesService, VotesConsumer],
  exports: [VotesService, VotesConsumer],
})
export class VotesModule {}
