import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { CreatePollRules, POLL_ID_PATTERN } from '@flotilla/contracts';

/** The shared poll rules (contracts), described for the OpenAPI document. */
export class CreatePollDto extends CreatePollRules {
  @ApiProperty({ description: 'Poll id, used in URLs', example: 'tabs-vs-spaces', pattern: POLL_ID_PATTERN.source, maxLength: 63 })
  declare id: string;

  @ApiProperty({ example: 'Tabs or spaces?', minLength: 1, maxLength: 500 })
  declare question: string;

  @ApiProperty({ type: [String], minItems: 2, maxItems: 20, example: ['tabs', 'spaces'] })
  declare options: string[];
}

export class VoteDto {
  @ApiProperty({ description: 'One of the poll options', example: 'cats' })
  @IsString()
  @Length(1, 100)
  option: string;
}

/** What a poll was created with (CreatePollRules bounds every field). */
export class PollDto {
  @ApiProperty({ pattern: POLL_ID_PATTERN.source, maxLength: 63, example: 'tabs-vs-spaces' }) id: string;
  @ApiProperty({ maxLength: 500, example: 'Tabs or spaces?' }) question: string;
  @ApiProperty({ type: [String], maxItems: 20, items: { type: 'string', maxLength: 100 }, example: ['tabs', 'spaces'] }) options: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class PollListDto {
  @ApiProperty({ type: [PollDto] }) items: PollDto[];
}

export class VoteAcceptedDto {
  @ApiProperty({ format: 'uuid' }) voteId: string;
  @ApiProperty({ pattern: POLL_ID_PATTERN.source, maxLength: 63, example: 'tabs-vs-spaces' }) pollId: string;
  @ApiProperty({ maxLength: 100, example: 'tabs' }) option: string;
}

export class OptionResultDto {
  @ApiProperty({ maxLength: 100, example: 'tabs' }) option: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 42 }) count: number;
  @ApiProperty({ description: 'Share of the total, one decimal', minimum: 0, maximum: 100, example: 61.8 }) percentage: number;
}

export class PollResultsDto {
  @ApiProperty({ pattern: POLL_ID_PATTERN.source, maxLength: 63, example: 'tabs-vs-spaces' }) pollId: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 68 }) total: number;
  @ApiProperty({ type: [OptionResultDto], maxItems: 20 }) options: OptionResultDto[];
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
