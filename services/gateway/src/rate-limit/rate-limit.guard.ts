import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import type { AuthUser } from '@flotilla/auth';
import type { GatewayEnv } from '../gateway.env.js';
import { UNLIMITED_PATHS } from './ip-limit.hook.js';
import { RateLimiter, userLimits } from './rate-limiter.service.js';
import { TooManyRequestsException } from './too-many-requests.exception.js';

/**
 * The per-user limit, once the caller is known (after authentication). The per-IP limit is
 * counted earlier, before authentication, by the `onRequest` step of `ip-limit.hook.ts`;
 * health probes and metrics scrapes are never limited.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: RateLimiter,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ ip: string; user?: AuthUser; url: string }>();
    if (!request.user || UNLIMITED_PATHS.test(request.url)) return true;
    const verdict = await this.limiter.hit([userLimits(this.env, request.ip, request.user.id)[1]], this.env.RATE_LIMIT_WINDOW_SECONDS);
    if (!verdict.allowed) throw new TooManyRequestsException(verdict.retryAfterSeconds);
    return true;
  }
}
