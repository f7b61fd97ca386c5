import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { IdentityService, type TeamView, type UserView } from '../identity/identity.service.js';
import type { Page } from '../identity/cursor.js';
import { UserAdministration } from '../identity/user-administration.service.js';
import { CreateTeamDto, CreateUserDto, PageQueryDto, TeamDto, TeamPageDto, UpdateUserDto, UserDto, UserPageDto } from './dto/admin.dto.js';
import { DatabaseDeadline } from '../http/database-deadline.interceptor.js';

@ApiTags('admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The caller is not an administrator' })
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

  @Patch('users/:id')
  @ApiOkResponse({ type: UserDto, description: "Changed; the user's access tokens issued before stop working within 5 s on every gateway instance" })
  @ApiBadRequestResponse({ description: 'Nothing to change, or a field that is not valid' })
  @ApiNotFoundResponse({ description: 'No such user, or no such team' })
  @ApiConflictResponse({ description: 'It would leave no active administrator' })
  @ApiUnprocessableEntityResponse({ description: 'A member without a team' })
  updateUser(@Param('id') id: string, @Body() body: UpdateUserDto, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<UserView> {
    return this.users.update(id, body, { id: caller.id, email: caller.email, ip });
  }

  @Delete('users/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: "Deleted with its refresh tokens; its access tokens stop working within 5 s; its audit history stays" })
  @ApiNotFoundResponse({ description: 'No such user' })
  @ApiConflictResponse({ description: 'It is the last active administrator' })
  deleteUser(@Param('id') id: string, @CurrentUser() caller: AuthUser, @Ip() ip: string): Promise<void> {
    return this.users.remove(id, { id: caller.id, email: caller.email, ip });
  }
}
