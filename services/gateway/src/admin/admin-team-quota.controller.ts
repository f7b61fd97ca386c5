import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../http/openapi/endpoint.js';
import { TeamQuotaDto } from './dto/admin.dto.js';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { QuotaRpc, SetTeamQuotaDto, type TeamQuotaView } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';
import { actorOf } from '../datasets/datasets.service.js';
import { IdentityService } from '../identity/identity.service.js';

/**
 * A team's dataset quota. The upload service owns the quota table and enforces it at
 * `upload/start`; the gateway checks that the team exists and asks it on the admin's behalf.
 */
@ApiTags('admin')
@ApiParam({ name: 'id', type: String, format: 'uuid', description: 'The team' })
@Roles('admin')
@Controller('admin/teams')
export class AdminTeamQuotaController {
  constructor(
    private readonly identity: IdentityService,
    private readonly rpc: RpcClient,
  ) {}

  @Get(':id/quota')
  @Endpoint({ id: 'getTeamQuota', summary: "A team's dataset quota", description: "Its limits in force, its overrides and its usage. 400 when the id is not a UUID; 404 for no such team.", access: 'admin', slow: true, problems: [404] })
  @ApiOkResponse({ type: TeamQuotaDto, description: "The team's limits in force (defaults where not overridden), its overrides and its usage" })
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() caller: AuthUser): Promise<TeamQuotaView> {
    await this.existing(id);
    return this.rpc.call('upload', QuotaRpc.Get, { teamId: id }, { actor: actorOf(caller) });
  }

  @Put(':id/quota')
  @Endpoint({
    id: 'setTeamQuota',
    summary: "Set a team's dataset quota",
    description: 'Overrides limits (null falls back to the default). 400 when the id is not a UUID, no limit is named or a limit is not a non-negative integer; 404 for no such team.',
    access: 'admin',
    body: true,
    slow: true,
    problems: [404],
  })
  @ApiOkResponse({ type: TeamQuotaDto, description: 'Set; the next `upload/start` of the team is checked against it. A null limit falls back to the default.' })
  async set(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: SetTeamQuotaDto, @CurrentUser() caller: AuthUser): Promise<TeamQuotaView> {
    await this.existing(id);
    return this.rpc.call('upload', QuotaRpc.Set, { ...body, teamId: id }, { actor: actorOf(caller) });
  }

  private async existing(id: string): Promise<void> {
    if (!(await this.identity.findTeam(id))) throw new NotFoundException(`No team ${id}.`);
  }
}
