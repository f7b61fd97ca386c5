import { UnauthorizedException, type ArgumentsHost } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { bearerToken, type AuthUser, type TokenVerifier } from '@flotilla/auth';
import { currentContext, ProblemDetailsFilter } from '@flotilla/observability';

/**
 * Replaces the handler of the route `method url` when Nest registers it: the route stays
 * declared by its controller (so it is in the router and the OpenAPI document, with the
 * edge's hooks), but is served by `handler` without Nest's guards, pipes and interceptors.
 * Call before the app initialises.
 */
export function takeOverRoute(fastify: FastifyInstance, method: string, url: string, handler: RouteHandlerMethod): void {
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url === url && methods.includes(method)) route.handler = handler;
  });
}

/**
 * What JwtAuthGuard does, with the cached verifier: the caller (also set as
 * `request.user` for the request log and in the log context), or the same 401.
 * Synchronous when the verifier can answer without I/O (the usual case), so the hot
 * path allocates no promise for it.
 */
export function authenticate(tokens: TokenVerifier, request: FastifyRequest): AuthUser | Promise<AuthUser> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new UnauthorizedException();
  const found = tokens.verifyNow(token);
  return found instanceof Promise ? found.then((user) => admit(request, user)) : admit(request, found);
}

function admit(request: FastifyRequest, user: AuthUser | null): AuthUser {
  if (!user) throw new UnauthorizedException();
  (request as FastifyRequest & { user?: AuthUser }).user = user;
  const context = currentContext();
  if (context) context.userId = user.id;
  return user;
}

/** The ArgumentsHost an exception filter needs, for errors of a route served outside Nest. */
export function hostOf(request: FastifyRequest, reply: FastifyReply): ArgumentsHost {
  return { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply, getNext: () => undefined }) } as unknown as ArgumentsHost;
}

/**
 * A route served outside Nest's per-request chain (see {@link takeOverRoute}): the caller
 * authenticated as JwtAuthGuard would (with the cached verifier), then {@link serve};
 * every error answered by the same problem+json filter as the rest of the API.
 */
export abstract class FastRoute {
  private readonly filter = new ProblemDetailsFilter();

  protected constructor(
    private readonly method: 'GET' | 'POST',
    private readonly tokens: TokenVerifier,
  ) {}

  /** Takes over the handler of `url` when it is registered; call before the app initialises. */
  install(fastify: FastifyInstance, url: string): void {
    takeOverRoute(fastify, this.method, url, (request, reply) => this.handle(request, reply));
  }

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      // Awaited only when the verifier could not answer at once.
      const authenticated = authenticate(this.tokens, request);
      await this.serve(request, reply, authenticated instanceof Promise ? await authenticated : authenticated);
    } catch (error) {
      this.filter.catch(error, hostOf(request, reply));
    }
  }

  protected abstract serve(request: FastifyRequest, reply: FastifyReply, user: AuthUser): Promise<void>;
}
