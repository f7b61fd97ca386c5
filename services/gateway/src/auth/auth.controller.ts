import { Body, Controller, Get, HttpCode, Ip, Post, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '@flotilla/auth';
import { AuthService } from './auth.service.js';
import { LoginDto, MeDto, RefreshDto, TokenPairDto } from './dto/auth.dto.js';
import { DatabaseDeadline } from '../http/database-deadline.interceptor.js';

@ApiTags('auth')
// Its work is the gateway's own Postgres: a frozen server answers 504, not never.
@UseInterceptors(DatabaseDeadline)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<TokenPairDto> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  refresh(@Body() body: RefreshDto, @Ip() ip: string): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken, ip);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  logout(@Body() body: RefreshDto, @Ip() ip: string): Promise<void> {
    return this.auth.logout(body.refreshToken, ip);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: MeDto })
  me(@CurrentUser() user: AuthUser): Promise<MeDto> {
    return this.auth.me(user);
  }
}
