import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Length, Matches, MaxLength } from 'class-validator';
import { POLL_ID_PATTERN, type CreatePollRequest, type GetPollRequest } from '@flotilla/contracts';

/** `votes.createPoll`; the same rules as the gateway's, checked again by the owner of the data. */
export class CreatePollDto implements CreatePollRequest {
  @IsString()
  @Matches(POLL_ID_PATTERN, { message: 'id must match ^[a-z0-9][a-z0-9-]{1,62}$' })
  id: string;

  @IsString()
  @Length(1, 500)
  question: string;

  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  options: string[];
}

/** `votes.getPoll` and `votes.results`. Any string is accepted: an id that cannot be a poll is simply not found. */
export class PollRefDto implements GetPollRequest {
  @IsString()
  @MaxLength(200)
  pollId: string;
}
