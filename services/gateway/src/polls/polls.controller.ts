import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';

/** The poll id in a path: the pattern every poll id has (a 404 for anything else). */
const POLL_ID_PARAM = { name: 'pollId', description: 'The poll id', schema: { type: 'string' as const, maxLength: 63, pattern: POLL_ID_PATTERN.source } };
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { POLL_ID_PATTERN, type Poll, type PollList, type PollResults } from '@flotilla/contracts';
import { CreatePollDto, PollDto, PollListDto, PollResultsDto, VoteAcceptedDto, VoteDto } from './dto/polls.dto.js';
import { servedByFastRoute } from '../http/fast-route.js';
import { Endpoint } from '../http/openapi/endpoint.js';
import { PollsService } from './polls.service.js';

@ApiTags('polls')
@Controller('polls')
export class PollsController {
  constructor(private readonly polls: PollsService) {}

  @Get()
  @Endpoint({ id: 'listPolls', summary: 'List polls', description: 'Every poll, newest first.', access: 'user', slow: true })
  @ApiOkResponse({ type: PollListDto, description: 'The polls' })
  list(@CurrentUser() user: AuthUser): Promise<PollList> {
    return this.polls.list(user);
  }

  @Post()
  @Roles('admin')
  @Endpoint({
    id: 'createPoll',
    summary: 'Create a poll',
    description: 'Administrators only (403 for others). 409 when a poll with that id exists.',
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 409],
  })
  @ApiCreatedResponse({ type: PollDto, description: 'The poll, open for votes' })
  create(@Body() body: CreatePollDto, @CurrentUser() user: AuthUser): Promise<Poll> {
    return this.polls.create(body, user);
  }

  /** Served by VoteRoute, outside Nest's per-request chain; declared here for the router and the OpenAPI document. */
  @Post(':pollId/votes')
  @ApiParam(POLL_ID_PARAM)
  @HttpCode(202)
  @Endpoint({
    id: 'castVote',
    summary: 'Vote',
    description:
      'Accepted into the vote stream and counted within seconds. 404 for an unknown poll, 422 for an option the poll does not have; 429 past the per-user or per-address limit; 503 while the vote stream cannot take it.',
    access: 'user',
    body: true,
    problems: [404, 422],
  })
  @ApiAcceptedResponse({ type: VoteAcceptedDto, description: 'The vote, accepted (counted asynchronously)' })
  vote(@Param('pollId') _pollId: string, @Body() _body: VoteDto): Promise<VoteAcceptedDto> {
    return servedByFastRoute('VoteRoute');
  }

  @Get(':pollId/results')
  @ApiParam(POLL_ID_PARAM)
  @Endpoint({ id: 'getPollResults', summary: 'Poll results', description: 'Counts and shares per option. Administrators only (403 for others); 404 for an unknown poll.', access: 'user', slow: true, problems: [403, 404] })
  @ApiOkResponse({ type: PollResultsDto, description: 'The counts so far' })
  results(@Param('pollId') pollId: string, @CurrentUser() user: AuthUser): Promise<PollResults> {
    return this.polls.results(pollId, user);
  }
}
