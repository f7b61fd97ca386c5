import { Body, Controller, Get, Ip, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { IdentityService, type TeamView, type UserView } from '../identity/identity.service.js';
import type { Page } from '../identity/cursor.js';
import { CreateTeamDto, CreateUserDto, PageQueryDto, TeamDto, TeamPageDto, UserDto, UserPageDto } from './dto/admin.dto.js';
import { DatabaseDeadline } from '../http/database-deadline.interceptor.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
// Its work is the gateway's own Postgres: a frozen server answers 504, not never.
@UseInterceptors(DatabaseDeadline)
@Controller('admin')
export class AdminIdentityController {
  constructor(private readonly identity: IdentityService) {}

  @Post('teams')
  @ApiCreatedResponse({ type: TeamDto })
  createTeam(@Body() body: CreateTeamDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<TeamView> {
    return this.identity.createTeam(body.name, { id: caller.id, email: caller.email, ip });
  }

  @Get('teams')
  @ApiOkResponse({ type: TeamPageDto })
  listTeams(@Query() query: PageQueryDto): Promise<Page<TeamView>> {
    return this.identity.listTeams(query.cursor, query.limit ?? 50);
  }

  @Post('users')
  @ApiCreatedResponse({ type: UserDto })
  createUser(@Body() body: CreateUserDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<UserView> {
    return this.identity.createUser({ ...body, teamId: body.teamId ?? null }, { id: caller.id, email: caller.email, ip });
  }

  @Get('users')
  @ApiOkResponse({ type: UserPageDto })
  listUsers(@Query() query: PageQueryDto): Promise<Page<UserView>> {
    return this.identity.listUsers(query.cursor, query.limit ?? 50);
  }
}
