import type { ArgumentsHost } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { authenticate, type AuthUser, type TokenVerifier } from '@flotilla/auth';
import { ProblemDetailsFilter } from '@flotilla/observability';
import { isDependencyDown } from './dependency-down.js';

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
 * The body of a controller method whose route a {@link FastRoute} serves: the method only
 * declares the route (for the router and the OpenAPI document) and never runs.
 */
export function servedByFastRoute(route: string): never {
  throw new Error(`${route} serves this route; its controller method only declares it`);
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
  private readonly filter = new ProblemDetailsFilter(isDependencyDown);

  /** `tolerateOutage`: the route accepts callers the user check knew before when Postgres is down (see `authenticate`). */
  protected constructor(
    private readonly method: 'GET' | 'POST',
    private readonly tokens: TokenVerifier,
    private readonly tolerateOutage = false,
  ) {}

  /** Takes over the handler of `url` when it is registered; call before the app initialises. */
  install(fastify: FastifyInstance, url: string): void {
    takeOverRoute(fastify, this.method, url, (request, reply) => this.handle(request, reply));
  }

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    try {
      // Awaited only when the verifier could not answer at once.
      const authenticated = authenticate(this.tokens, request, this.tolerateOutage);
      await this.serve(request, reply, authenticated instanceof Promise ? await authenticated : authenticated);
    } catch (error) {
      this.filter.catch(error, hostOf(request, reply));
      // An error answer may still be in an asynchronous onSend step (the per-IP count of a
      // 401): resolving with the reply tells Fastify it is under way, not missing.
      return reply;
    }
    return undefined;
  }

  protected abstract serve(request: FastifyRequest, reply: FastifyReply, user: AuthUser): Promise<void>;
}
