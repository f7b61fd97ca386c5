import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Length, Matches } from 'class-validator';
import { POLL_ID_PATTERN } from '@flotilla/contracts';

export class CreatePollDto {
  @ApiProperty({ description: 'Poll id, used in URLs', example: 'tabs-vs-spaces', pattern: POLL_ID_PATTERN.source })
  @IsString()
  @Matches(POLL_ID_PATTERN, { message: 'id must match ^[a-z0-9][a-z0-9-]{1,62}$' })
  id: string;

  @ApiProperty({ example: 'Tabs or spaces?' })
  @IsString()
  @Length(1, 500)
  question: string;

  @ApiProperty({ type: [String], minItems: 2, maxItems: 20, example: ['tabs', 'spaces'] })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  options: string[];
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
