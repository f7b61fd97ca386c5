import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
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
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The caller is not an administrator' })
@ApiNotFoundResponse({ description: 'No such team' })
@ApiBadRequestResponse({ description: 'The team id is not a UUID, or a limit is not a non-negative integer' })
@ApiParam({ name: 'id', type: String, format: 'uuid', description: 'The team' })
@Roles('admin')
@Controller('admin/teams')
export class AdminTeamQuotaController {
  constructor(
    private readonly identity: IdentityService,
    private readonly rpc: RpcClient,
  ) {}

  @Get(':id/quota')
  @ApiOkResponse({ description: "The team's limits in force (defaults where not overridden), its overrides and its usage" })
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() caller: AuthUser): Promise<TeamQuotaView> {
    await this.existing(id);
    return this.rpc.call('upload', QuotaRpc.Get, { teamId: id }, { actor: actorOf(caller) });
  }

  @Put(':id/quota')
  @ApiOkResponse({ description: 'Set; the next `upload/start` of the team is checked against it. A null limit falls back to the default.' })
  async set(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: SetTeamQuotaDto, @CurrentUser() caller: AuthUser): Promise<TeamQuotaView> {
    await this.existing(id);
    return this.rpc.call('upload', QuotaRpc.Set, { ...body, teamId: id }, { actor: actorOf(caller) });
  }

  private async existing(id: string): Promise<void> {
    if (!(await this.identity.findTeam(id))) throw new NotFoundException(`No team ${id}.`);
  }
}
