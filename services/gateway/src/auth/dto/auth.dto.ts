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

export class TokenPairDto {
  @ApiProperty() accessToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
}

export class MeTeamDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class MeDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: ['admin', 'member'] }) role: 'admin' | 'member';
  @ApiProperty({ type: MeTeamDto, nullable: true }) team: MeTeamDto | null;
}
