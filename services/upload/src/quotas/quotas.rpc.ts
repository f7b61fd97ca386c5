import { Injectable, type OnModuleInit } from '@nestjs/common';
import { QuotaRpc, RpcError } from '@flotilla/contracts';
import { RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { SetTeamQuotaRpcDto, TeamRefDto } from './quota-refs.dto.js';
import { TeamQuotas } from './team-quotas.js';

/** `upload.quota` and `upload.setQuota`: administrators read and set a team's quota. */
@Injectable()
export class QuotasRpc implements OnModuleInit {
  constructor(
    private readonly quotas: TeamQuotas,
    private readonly server: RpcServer,
  ) {}

  onModuleInit(): void {
    this.server.handle(QuotaRpc.Get, async (payload, meta) => {
      adminOnly(meta);
      return this.quotas.view((await validatePayload(TeamRefDto, payload)).teamId);
    });
    this.server.handle(QuotaRpc.Set, async (payload, meta) => {
      adminOnly(meta);
      const { teamId, ...limits } = await validatePayload(SetTeamQuotaRpcDto, payload);
      return this.quotas.set(teamId, limits);
    });
  }
}

function adminOnly(meta: RpcRequestMeta): void {
  if (meta.actor?.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators read or set team quotas.');
}
