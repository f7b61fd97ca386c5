import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { CreatePollRules, POLL_ID_PATTERN } from '@flotilla/contracts';

/** The shared poll rules (contracts), described for the OpenAPI document. */
export class CreatePollDto extends CreatePollRules {
  @ApiProperty({ description: 'Poll id, used in URLs', example: 'tabs-vs-spaces', pattern: POLL_ID_PATTERN.source })
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

export class PollDto {
  @ApiProperty() id: string;
  @ApiProperty() question: string;
  @ApiProperty({ type: [String] }) options: string[];
  @ApiProperty() createdAt: string;
}

export class PollListDto {
  @ApiProperty({ type: [PollDto] }) items: PollDto[];
}

export class VoteAcceptedDto {
  @ApiProperty() voteId: string;
  @ApiProperty() pollId: string;
  @ApiProperty() option: string;
}

export class OptionResultDto {
  @ApiProperty() option: string;
  @ApiProperty() count: number;
  @ApiProperty({ description: 'Share of the total, one decimal' }) percentage: number;
}

export class PollResultsDto {
  @ApiProperty() pollId: string;
  @ApiProperty() total: number;
  @ApiProperty({ type: [OptionResultDto] }) options: OptionResultDto[];
  @ApiProperty() updatedAt: string;
}
