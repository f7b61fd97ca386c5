import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';

export class CreateTeamDto {
  @ApiProperty({ description: 'Unique team name', example: 'team-alpha' })
  @IsString()
  @Length(2, 64)
  @Matches(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, { message: 'name may hold letters, digits, spaces, dots, dashes and underscores' })
  name: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'alice@example.com' })
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email: string;

  @ApiProperty({ description: 'At least 12 characters', minLength: 12 })
  @IsString()
  @MinLength(12)
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ description: 'Team of the user; required for members', nullable: true })
  @ValidateIf((o: CreateUserDto) => o.role === 'member' || o.teamId !== undefined)
  @IsUUID()
  teamId?: string;

  @ApiProperty({ enum: ['admin', 'member'] })
  @IsIn(['admin', 'member'])
  role: 'admin' | 'member';
}

export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class TeamDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() createdAt: string;
}

export class UserDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role: 'admin' | 'member';
  @ApiProperty({ nullable: true }) teamId: string | null;
}

export class TeamPageDto {
  @ApiProperty({ type: [TeamDto] }) items: TeamDto[];
  @ApiProperty({ nullable: true }) nextCursor: string | null;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ nullable: true }) nextCursor: string | null;
}
