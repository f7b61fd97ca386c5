import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser, Role } from './auth.types.js';
import { ROLES } from './decorators.js';
import { IS_PUBLIC } from '@flotilla/observability';
import { authenticate, TokenVerifier } from './token-verifier.js';

/**
 * Requires a valid bearer token on every route not marked `@Public()`; the caller becomes
 * `request.user`. Verified with the same cached {@link TokenVerifier} as the routes
 * served outside Nest's chain, so a repeated token costs no signature check anywhere.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    await authenticate(this.tokens, context.switchToHttp().getRequest<{ headers: { authorization?: string }; user?: AuthUser }>());
    return true;
  }
}

/** Answers 403 when the caller's role is not among the route's `@Roles(...)`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (!roles || roles.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || !roles.includes(user.role)) throw new ForbiddenException('This route is for administrators.');
    return true;
  }
}

