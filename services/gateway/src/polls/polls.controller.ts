import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import type { Poll, PollList, PollResults } from '@flotilla/contracts';
import { CreatePollDto, PollDto, PollListDto, PollResultsDto, VoteAcceptedDto, VoteDto } from './dto/polls.dto.js';
import { servedByFastRoute } from '../http/fast-route.js';
import { PollsService } from './polls.service.js';

@ApiTags('polls')
@ApiBearerAuth()
@Controller('polls')
export class PollsController {
  constructor(private readonly polls: PollsService) {}

  @Get()
  @ApiOkResponse({ type: PollListDto })
  list(@CurrentUser() user: AuthUser): Promise<PollList> {
    return this.polls.list(user);
  }

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: PollDto })
  create(@Body() body: CreatePollDto, @CurrentUser() user: AuthUser): Promise<Poll> {
    return this.polls.create(body, user);
  }

  /** Served by VoteRoute, outside Nest's per-request chain; declared here for the router and the OpenAPI document. */
  @Post(':pollId/votes')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: VoteAcceptedDto })
  vote(@Param('pollId') _pollId: string, @Body() _body: VoteDto): Promise<VoteAcceptedDto> {
    return servedByFastRoute('VoteRoute');
  }

  @Get(':pollId/results')
  @ApiOkResponse({ type: PollResultsDto })
  results(@Param('pollId') pollId: string, @CurrentUser() user: AuthUser): Promise<PollResults> {
    return this.polls.results(pollId, user);
  }
}
