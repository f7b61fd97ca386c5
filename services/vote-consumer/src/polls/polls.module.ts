import { Module } from '@nestjs/common';
import { PollsRpc } from './polls.rpc.js';
import { PollsService } from './polls.service.js';

@Module({
  providers: [PollsService, PollsRpc],
  exports: [PollsService],
})
export class PollsModule {}
