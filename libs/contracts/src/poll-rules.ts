import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Length, Matches } from 'class-validator';
import type { CreatePollRequest } from './votes.js';
import { POLL_ID_PATTERN } from './votes.js';

/**
 * The rules of a new poll, in one place: the gateway checks them at the edge and
 * `vote-consumer`, owner of the data, checks them again on the RPC.
 */
export class CreatePollRules implements CreatePollRequest {
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
