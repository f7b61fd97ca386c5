import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, Length, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

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

/** `PATCH /admin/users/{id}`: at least one field; what is absent stays as it is. */
export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ['admin', 'member'], description: 'A member needs a team (422 otherwise); the last active admin cannot be demoted (409)' })
  @IsOptional()
  @IsIn(['admin', 'member'])
  role?: 'admin' | 'member';

  @ApiPropertyOptional({ description: 'The team to move the user to; null for none (admins only)', nullable: true, format: 'uuid' })
  @ValidateIf((o: UpdateUserDto) => o.teamId !== undefined && o.teamId !== null)
  @IsUUID()
  teamId?: string | null;

  @ApiPropertyOptional({ description: 'A disabled user cannot log in or refresh, and its tokens stop working within 5 s' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ description: 'A new password, at least 12 characters', minLength: 12 })
  @IsOptional()
  @IsString()
  @MinLength(12)
  @MaxLength(1024)
  password?: string;
}

export class TeamDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 64, example: 'team-alpha' }) name: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 254, example: 'alice@example.com' }) email: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role: 'admin' | 'member';
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) teamId: string | null;
  @ApiProperty({ description: 'Disabled users cannot log in; their tokens are refused' }) disabled: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** A page holds at most `limit` items (PageQueryDto: at most 200); `nextCursor` is what `cursor` takes (at most 300). */
export class TeamPageDto {
  @ApiProperty({ type: [TeamDto], maxItems: 200 }) items: TeamDto[];
  @ApiProperty({ type: String, nullable: true, maxLength: 300 }) nextCursor: string | null;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto], maxItems: 200 }) items: UserDto[];
  @ApiProperty({ type: String, nullable: true, maxLength: 300 }) nextCursor: string | null;
}

export { PageQueryDto } from '@flotilla/contracts';

const BYTES = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** A team's dataset limits in force (its overrides, else the configured defaults). */
export class TeamQuotaLimitsDto {
  @ApiProperty(BYTES) maxStoredBytes: number;
  @ApiProperty(BYTES) maxDatasetBytes: number;
  @ApiProperty(BYTES) maxFilesPerDataset: number;
  @ApiProperty(BYTES) maxConcurrentUploads: number;
}

export class TeamQuotaOverridesDto {
  @ApiPropertyOptional(BYTES) maxStoredBytes?: number;
  @ApiPropertyOptional(BYTES) maxDatasetBytes?: number;
  @ApiPropertyOptional(BYTES) maxFilesPerDataset?: number;
  @ApiPropertyOptional(BYTES) maxConcurrentUploads?: number;
}

export class TeamQuotaUsageDto {
  @ApiProperty(BYTES) storedBytes: number;
  @ApiProperty(BYTES) concurrentUploads: number;
}

export class TeamQuotaDto {
  @ApiProperty({ format: 'uuid' }) teamId: string;
  @ApiProperty({ type: TeamQuotaLimitsDto }) limits: TeamQuotaLimitsDto;
  @ApiProperty({ type: TeamQuotaOverridesDto, description: 'Only the limits set for this team' }) overrides: TeamQuotaOverridesDto;
  @ApiProperty({ type: TeamQuotaUsageDto }) usage: TeamQuotaUsageDto;
}
