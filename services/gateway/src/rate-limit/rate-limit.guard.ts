import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import type { AuthUser } from '@flotilla/auth';
import type { GatewayEnv } from '../gateway.env.js';
import { ipLimit, RateLimiter, userLimits } from './rate-limiter.service.js';
import { TooManyRequestsException } from './too-many-requests.exception.js';

/**
 * Per-IP limit on every API route and per-user limit once the caller is known; runs
 * after authentication so both counters go to Redis in one round trip. Health probes and
 * metrics scrapes are not API traffic: they are never limited, so a busy address cannot
 * make the gateway look dead to its orchestrator.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: RateLimiter,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ ip: string; user?: AuthUser; url: string }>();
    if (/^\/(health(\/|$|\?)|metrics($|\?))/.test(request.url)) return true;
    const verdict = await this.limiter.hit(request.user ? userLimits(this.env, request.ip, request.user.id) : [ipLimit(this.env, request.ip)], this.env.RATE_LIMIT_WINDOW_SECONDS);
    if (!verdict.allowed) throw new TooManyRequestsException(verdict.retryAfterSeconds);
    return true;
  }
}
