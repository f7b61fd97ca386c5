import { Global, Module } from '@nestjs/common';
import { QuotasRpc } from './quotas.rpc.js';
import { TeamQuotas } from './team-quotas.js';

/** Team quotas; global so that `upload/start` can check them. */
@Global()
@Module({
  providers: [TeamQuotas, QuotasRpc],
  exports: [TeamQuotas],
})
export class QuotasModule {}
