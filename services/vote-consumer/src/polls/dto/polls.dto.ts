import { IsString, MaxLength } from 'class-validator';
import { CreatePollRules, type GetPollRequest } from '@flotilla/contracts';

/** `votes.createPoll`: the shared rules, checked again by the owner of the data. */
export class CreatePollDto extends CreatePollRules {}

/** `votes.getPoll` and `votes.results`. Any string is accepted: an id that cannot be a poll is simply not found. */
export class PollRefDto implements GetPollRequest {
  @IsString()
  @MaxLength(200)
  pollId: string;
}
