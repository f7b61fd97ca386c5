import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../http/openapi/endpoint.js';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { IdentityService, type TeamView, type UserView } from '../identity/identity.service.js';
import type { Page } from '../identity/cursor.js';
import { UserAdministration } from '../identity/user-administration.service.js';
import { CreateTeamDto, CreateUserDto, PageQueryDto, TeamDto, TeamPageDto, UpdateUserDto, UserDto, UserPageDto } from './dto/admin.dto.js';
import { DatabaseDeadline } from '../http/database-deadline.interceptor.js';

@ApiTags('admin')
@Roles('admin')
// Its work is the gateway's own Postgres: a frozen server answers 504, not never.
@UseInterceptors(DatabaseDeadline)
@Controller('admin')
export class AdminIdentityController {
  constructor(
    private readonly identity: IdentityService,
    private readonly users: UserAdministration,
  ) {}

  @Post('teams')
  @Endpoint({ id: 'createTeam', summary: 'Create a team', description: '409 when a team of that name exists.', access: 'admin', body: true, slow: true, problems: [409] })
  @ApiCreatedResponse({ type: TeamDto })
  createTeam(@Body() body: CreateTeamDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<TeamView> {
    return this.identity.createTeam(body.name, { id: caller.id, email: caller.email, ip });
  }

  @Get('teams')
  @Endpoint({ id: 'listTeams', summary: 'List teams', description: 'Every team, a page at a time (`cursor`, `limit`); 400 for a cursor that is not one of ours.', access: 'admin', slow: true })
  @ApiOkResponse({ type: TeamPageDto })
  listTeams(@Query() query: PageQueryDto): Promise<Page<TeamView>> {
    return this.identity.listTeams(query.cursor, query.limit ?? 50);
  }

  @Post('users')
  @Endpoint({ id: 'createUser', summary: 'Create a user', description: 'A member needs a team (404 when there is no such team); 409 when the email is taken.', access: 'admin', body: true, slow: true, problems: [404, 409, 422] })
  @ApiCreatedResponse({ type: UserDto })
  createUser(@Body() body: CreateUserDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<UserView> {
    return this.identity.createUser({ ...body, teamId: body.teamId ?? null }, { id: caller.id, email: caller.email, ip });
  }

  @Get('users')
  @Endpoint({ id: 'listUsers', summary: 'List users', description: 'Every user, a page at a time (`cursor`, `limit`).', access: 'admin', slow: true })
  @ApiOkResponse({ type: UserPageDto })
  listUsers(@Query() query: PageQueryDto): Promise<Page<UserView>> {
    return this.identity.listUsers(query.cursor, query.limit ?? 50);
  }

  @Patch('users/:id')
  @Endpoint({
    id: 'updateUser',
    summary: 'Change a user',
    description: "Role, team, disabled or password. 400 when nothing is to change; 404 for no such user or team; 409 when it would leave no active administrator; 422 for a member without a team.",
    access: 'admin',
    body: true,
    slow: true,
    problems: [404, 409, 422],
  })
  @ApiOkResponse({ type: UserDto, description: "Changed; the user's access tokens issued before stop working within 5 s on every gateway instance" })
  updateUser(@Param('id') id: string, @Body() body: UpdateUserDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<UserView> {
    return this.users.update(id, body, { id: caller.id, email: caller.email, ip });
  }

  @Delete('users/:id')
  @HttpCode(204)
  @Endpoint({ id: 'deleteUser', summary: 'Delete a user', description: 'Its audit history stays. 404 for no such user; 409 for the last active administrator.', access: 'admin', slow: true, problems: [404, 409] })
  @ApiNoContentResponse({ description: "Deleted with its refresh tokens; its access tokens stop working within 5 s; its audit history stays" })
  deleteUser(@Param('id') id: string, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<void> {
    return this.users.remove(id, { id: caller.id, email: caller.email, ip });
  }
}
