import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { ENV } from '@flotilla/config';
import { AuditActions, type AuditEventData } from '@flotilla/contracts';
import { JWT_ALGORITHM, JWT_AUDIENCE, JWT_ISSUER, type AccessTokenClaims, type AuthUser } from '@flotilla/auth';
import type { GatewayEnv } from '../gateway.env.js';
import { AuditLog } from '../identity/audit-log.js';
import { IdentityService } from '../identity/identity.service.js';
import { verifyPassword } from '../identity/passwords.js';
import { RefreshToken } from '../identity/refresh-token.entity.js';
import { raiseTokenVersion, TokenVersions } from '../identity/token-versions.js';
import type { User } from '../identity/user.entity.js';
import { RateLimiter } from '../rate-limit/rate-limiter.service.js';
import type { MeDto, TokenPairDto } from './dto/auth.dto.js';
import { LoginThrottle, type LoginAttempt } from './login-throttle.js';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Login with throttling, rotating refresh tokens with reuse detection, logout. Each of
 * these is audited (`audit.<action>` through the outbox): with the change it records in
 * one transaction, or on its own when nothing changed (refused logins).
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly identity: IdentityService,
    private readonly jwt: JwtService,
    private readonly limiter: RateLimiter,
    @InjectRepository(RefreshToken) private readonly tokens: Repository<RefreshToken>,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(ENV) private readonly env: GatewayEnv,
    private readonly versions: TokenVersions,
  ) {
    this.throttle = new LoginThrottle(limiter, audit, env);
  }

  /**
   * Checks the password (same time for unknown email and wrong password) after taking an
   * attempt from the account's and the IP's counters (see {@link LoginThrottle}): 429 once
   * either is exhausted, 503 when they cannot be counted. Refusals are audited with the
   * email tried (never the password), aggregated; an audit entry that cannot be written
   * does not change the answer.
   */
  async login(email: string, password: string, ip: string): Promise<TokenPairDto> {
    const tried = email.toLowerCase();
    const attempt = await this.throttle.take(tried, ip);
    try {
      return await this.checkPassword(email, password, ip, attempt);
    } catch (error) {
      // A check that could not be made (Postgres down) uses up no attempt.
      if (!(error instanceof UnauthorizedException)) await attempt.abandoned();
      throw error;
    }
  }

  private async checkPassword(email: string, password: string, ip: string, attempt: LoginAttempt): Promise<TokenPairDto> {
    const tried = email.toLowerCase();
    const user = await this.identity.findUserByEmail(email);
    if (!(await verifyPassword(user?.passwordHash, password)) || !user) {
      this.logger.warn({ event: 'login.failed', email: tried, ip });
      // Written for unknown emails and wrong passwords alike, so both take the same time.
      await this.audit.recordQuietly({
        action: AuditActions.LoginFailed,
        outcome: 'failure',
        actorId: user?.id ?? null,
        actorEmail: tried,
        ip,
        details: { reason: user ? 'wrong-password' : 'unknown-email' },
      });
      throw new UnauthorizedException('Email or password is wrong.');
    }
    await attempt.succeeded();
    this.logger.log({ event: 'login.succeeded', userId: user.id, ip });
    return this.issue(user, randomUUID(), {
      action: AuditActions.LoginSucceeded,
      outcome: 'success',
      actorId: user.id,
      actorEmail: user.email,
      ip,
      target: `user:${user.id}`,
    });
  }

  /**
   * Rotates a refresh token; a token that was already used revokes its whole family and
   * ends the user's access tokens (raising its token version), audited as `token.reuse`
   * in the same transaction. A disabled user gets no new tokens.
   */
  async refresh(presented: string, ip: string | null = null): Promise<TokenPairDto> {
    const token = await this.lookup(presented);
    if (!token) throw new UnauthorizedException('The refresh token is not valid.');
    if (token.revokedAt) {
      const owner = await this.identity.findUser(token.userId);
      const version = await this.dataSource.transaction(async (m) => {
        const { affected } = await m.update(RefreshToken, { familyId: token.familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
        const raised = await raiseTokenVersion(m, token.userId);
        await this.audit.add(m, {
          action: AuditActions.TokenReuse,
          outcome: 'failure',
          actorId: token.userId,
          actorEmail: owner?.email ?? null,
          ip,
          target: `user:${token.userId}`,
          details: { familyId: token.familyId, tokensRevoked: affected ?? 0 },
        });
        return raised;
      });
      this.audit.flush();
      if (version !== undefined) await this.versions.publish(token.userId, version);
      this.logger.warn({ event: 'refresh.reused', userId: token.userId, familyId: token.familyId });
      throw new UnauthorizedException('The refresh token was already used; the session has been revoked.');
    }
    if (token.expiresAt.getTime() <= Date.now()) throw new UnauthorizedException('The refresh token has expired.');
    // Only one of two concurrent refreshes with the same token may win.
    const { affected } = await this.tokens.update({ id: token.id, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!affected) throw new UnauthorizedException('The refresh token was already used.');
    const user = await this.identity.findUser(token.userId);
    if (!user) throw new UnauthorizedException('The account no longer exists.');
    return this.issue(user, token.familyId);
  }

  /**
   * Revokes the token's family and ends the user's access tokens (raising its token
   * version), audited as `logout` in the same transaction; unknown or already revoked
   * tokens are accepted silently (and, changing nothing, not audited).
   */
  async logout(presented: string, ip: string | null = null): Promise<void> {
    const token = await this.lookup(presented);
    if (!token) return;
    const owner = await this.identity.findUser(token.userId);
    const revoked = await this.dataSource.transaction(async (m) => {
      const { affected } = await m.update(RefreshToken, { familyId: token.familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
      if (!affected) return false;
      const version = await raiseTokenVersion(m, token.userId);
      await this.audit.add(m, {
        action: AuditActions.Logout,
        outcome: 'success',
        actorId: token.userId,
        actorEmail: owner?.email ?? null,
        ip,
        target: `user:${token.userId}`,
        details: { familyId: token.familyId, tokensRevoked: affected },
      });
      return { version };
    });
    if (!revoked) return;
    this.audit.flush();
    if (revoked.version !== undefined) await this.versions.publish(token.userId, revoked.version);
  }

  async me(caller: AuthUser): Promise<MeDto> {
    const user = await this.identity.findUser(caller.id);
    if (!user) throw new UnauthorizedException('The account no longer exists.');
    const team = user.teamId ? await this.identity.findTeam(user.teamId) : null;
    return { id: user.id, email: user.email, role: user.role, team: team ? { id: team.id, name: team.name } : null };
  }

  /**
   * Signs an access token and stores a new refresh token, with `audit` (if any) in the same
   * transaction; refuses a disabled user. The token carries the version of the user row it
   * was built from, so a change committed after that row was read (which raises the
   * version) makes it one of the tokens the change ends.
   */
  private async issue(user: User, familyId: string, audit?: AuditEventData): Promise<TokenPairDto> {
    if (user.disabled) throw new UnauthorizedException('This account is disabled.');
    const claims: AccessTokenClaims = { sub: user.id, email: user.email, role: user.role, teamId: user.teamId, ver: user.tokenVersion };
    const accessToken = await this.jwt.signAsync(claims, {
      secret: this.env.JWT_SECRET,
      algorithm: JWT_ALGORITHM,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      expiresIn: this.env.JWT_ACCESS_TTL_SECONDS,
    });
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.dataSource.transaction(async (m) => {
      await m.insert(RefreshToken, {
        id,
        familyId,
        userId: user.id,
        secretHash: sha256(secret),
        expiresAt: new Date(Date.now() + this.env.JWT_REFRESH_TTL_SECONDS * 1000),
        revokedAt: null,
      });
      if (audit) await this.audit.add(m, audit);
    });
    if (audit) this.audit.flush();
    return { accessToken, refreshToken: `${id}.${secret}`, tokenType: 'Bearer', expiresIn: this.env.JWT_ACCESS_TTL_SECONDS };
  }

  /** Finds the stored token whose secret matches, comparing hashes in constant time. */
  private async lookup(presented: string): Promise<RefreshToken | null> {
    const [id, secret] = presented.split('.');
    if (!id || !secret || !/^[0-9a-f-]{36}$/i.test(id)) return null;
    const token = await this.tokens.findOneBy({ id });
    if (!token) return null;
    const a = Buffer.from(token.secretHash, 'hex');
    const b = Buffer.from(sha256(secret), 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? token : null;
  }
}
