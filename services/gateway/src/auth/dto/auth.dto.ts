import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ description: 'Account email', example: 'admin@flotilla.local' })
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email: string;

  @ApiProperty({ description: 'Account password', example: 'flotilla-admin-dev' })
  @IsString()
  @Length(1, 1024)
  password: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login or the last refresh' })
  @IsString()
  @Length(1, 256)
  refreshToken: string;
}

/** Longest header value the gateway reads (well-formed-input's maxHeader): an access token is sent back in one. */
const ACCESS_TOKEN_MAX = 8192;

export class TokenPairDto {
  @ApiProperty({ description: 'A JWT, sent as `Authorization: Bearer <token>`', maxLength: ACCESS_TOKEN_MAX, example: 'eyJhbGciOiJIUzI1NiJ9.e30.signature' }) accessToken: string;
  @ApiProperty({ description: 'Opaque; works once, at `POST /auth/refresh`', maxLength: 256, example: 'q0Zf7m2uR9...' }) refreshToken: string;
  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires', type: 'integer', minimum: 30, maximum: 86_400, example: 900 }) expiresIn: number;
}

export class MeTeamDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 64, example: 'team-alpha' }) name: string;
}

export class MeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 254, example: 'alice@example.com' }) email: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role: 'admin' | 'member';
  @ApiProperty({ type: MeTeamDto, nullable: true }) team: MeTeamDto | null;
}
