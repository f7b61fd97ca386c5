import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { ProblemDetailsFilter, toProblem } from '@flotilla/observability';
import type { GatewayEnv } from '../gateway.env.js';
import { isDependencyDown } from '../http/dependency-down.js';
import { hostOf } from '../http/fast-route.js';
import { ipLimit, type RateLimiter } from './rate-limiter.service.js';
import { TooManyRequestsException } from './too-many-requests.exception.js';

/**
 * Probes and scrapes are not API traffic: never limited, so a busy address cannot make the
 * gateway look dead to its orchestrator.
 */
export const UNLIMITED_PATHS = /^\/(health(\/|$|\?)|metrics($|\?))/;

type IpLimitSettings = Pick<GatewayEnv, 'RATE_LIMIT_PER_IP' | 'RATE_LIMIT_WINDOW_SECONDS'>;

/** A route as `METHOD /url/:param`, as Fastify declares it. */
export type RouteKey = `${'GET' | 'POST'} /${string}`;

/**
 * The per-IP request limit, before authentication: a Fastify `onRequest` step counts every
 * request but health and metrics, so a flood of bad (or well-signed but useless) tokens
 * meets 429 (problem+json, Retry-After) without costing a token check or a database query.
 * Redis unavailable: requests go through (the limiter says so in the log).
 *
 * `countedByRoute`: the hot routes that count the IP themselves, in the same Redis script as
 * their work (the vote's `hitThenAppend`, the status's `hitThenGet`). Counting them here too
 * would count their IP twice and add a Redis round trip to every vote. Their script runs only
 * once the caller is authenticated, so their 401s are counted here instead, as they leave:
 * past the limit, the 401 goes out as the 429 it would have been.
 */
export function installIpLimit(fastify: FastifyInstance, limiter: RateLimiter, env: IpLimitSettings, countedByRoute: RouteKey[]): void {
  const ownCount = new Set<string>(countedByRoute);
  const problems = new ProblemDetailsFilter(isDependencyDown);
  const limit = (request: FastifyRequest) => limiter.hit([ipLimit(env, request.ip)], env.RATE_LIMIT_WINDOW_SECONDS);

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (ownCount.has(`${request.method} ${request.routeOptions.url}`) || UNLIMITED_PATHS.test(request.url)) return done();
    limit(request).then((verdict) => {
      if (verdict.allowed) done();
      else problems.catch(new TooManyRequestsException(verdict.retryAfterSeconds), hostOf(request, reply));
    }, done);
  });

  const countRefused: onSendHookHandler = (request, reply, payload, done) => {
    if (reply.statusCode !== 401) return done(null, payload);
    limit(request).then((verdict) => {
      if (verdict.allowed) return done(null, payload);
      const exception = new TooManyRequestsException(verdict.retryAfterSeconds);
      void reply
        .code(429)
        .header('retry-after', String(verdict.retryAfterSeconds))
        .type('application/problem+json; charset=utf-8');
      done(null, JSON.stringify(toProblem(exception, request.url.split('?')[0] ?? request.url)));
    }, (error: Error) => done(error));
  };
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((method) => ownCount.has(`${method} ${route.url}`))) return;
    // Asynchronous: the route's handler must resolve with the reply when it answered an error (see FastRoute.handle).
    route.onSend = [...(Array.isArray(route.onSend) ? route.onSend : route.onSend ? [route.onSend] : []), countRefused];
  });
}
