import { Body, Controller, Get, HttpCode, Ip, Post, UseInterceptors } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '@flotilla/auth';
import { AuthService } from './auth.service.js';
import { LoginDto, MeDto, RefreshDto, TokenPairDto } from './dto/auth.dto.js';
import { DatabaseDeadline } from '../http/database-deadline.interceptor.js';
import { Endpoint } from '../http/openapi/endpoint.js';

@ApiTags('auth')
// Its work is the gateway's own Postgres: a frozen server answers 504, not never.
@UseInterceptors(DatabaseDeadline)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @Endpoint({
    id: 'login',
    summary: 'Sign in',
    description: 'Trades an email and password for an access token (short-lived) and a refresh token. 401 for a wrong email or password or a disabled account; repeated failures for one account or address answer 429 with `Retry-After`.',
    access: 'public',
    body: true,
    slow: true,
    problems: [401],
  })
  @ApiOkResponse({ type: TokenPairDto, description: 'Signed in' })
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<TokenPairDto> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @Endpoint({
    id: 'refreshTokens',
    summary: 'Refresh the tokens',
    description: 'Trades a refresh token for a new pair; each refresh token works once, and one used twice revokes its session (401).',
    access: 'public',
    body: true,
    slow: true,
    problems: [401],
  })
  @ApiOkResponse({ type: TokenPairDto, description: 'A new token pair; the old refresh token no longer works' })
  refresh(@Body() body: RefreshDto, @Ip() ip: string): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken, ip);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @Endpoint({ id: 'logout', summary: 'Sign out', description: 'Revokes the refresh token (and so its session); an unknown or already revoked token is accepted silently. Access tokens already issued expire on their own.', access: 'public', body: true, slow: true })
  @ApiNoContentResponse({ description: 'Signed out' })
  logout(@Body() body: RefreshDto, @Ip() ip: string): Promise<void> {
    return this.auth.logout(body.refreshToken, ip);
  }

  @Get('me')
  @Endpoint({ id: 'getMe', summary: 'Who am I', description: "The caller's account: id, email, role and team.", access: 'user', slow: true })
  @ApiOkResponse({ type: MeDto, description: "The caller's account" })
  me(@CurrentUser() user: AuthUser): Promise<MeDto> {
    return this.auth.me(user);
  }
}
