import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { AuthUser, Role } from './auth.types.js';
import { ROLES } from './decorators.js';
import { currentContext, IS_PUBLIC } from '@flotilla/observability';

/** Requires a valid bearer token on every route not marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const ok = (await super.canActivate(context)) as boolean;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    const ctx = currentContext();
    if (ok && user && ctx) ctx.userId = user.id;
    return ok;
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

