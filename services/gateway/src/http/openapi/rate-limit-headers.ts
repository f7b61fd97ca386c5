import type { FastifyInstance, FastifyReply, onSendHookHandler } from 'fastify';

/** The policy name `RateLimit` gives: one for every limit of the gateway (per address, per user, login). */
export const RATE_LIMIT_POLICY = 'gateway';

function addRateLimit(reply: FastifyReply): void {
  if (reply.statusCode !== 429) return;
  const seconds = Number(reply.getHeader('retry-after'));
  if (Number.isInteger(seconds) && seconds >= 0) void reply.header('RateLimit', `"${RATE_LIMIT_POLICY}";r=0;t=${seconds}`);
}

/**
 * Every 429 also says, in the IETF `RateLimit` field, that nothing is left and when the
 * window resets (its `Retry-After`), whichever limit refused it: the per-IP hook, the
 * per-user guard, the vote's and status's own scripts, the login throttle. Installed after
 * `installIpLimit`: a route's own onSend steps run after the global ones, so the step is
 * also appended to each route, after the one that turns a counted 401 into a 429.
 */
export function installRateLimitHeaders(fastify: FastifyInstance): void {
  const step: onSendHookHandler = (_request, reply, payload, done) => {
    addRateLimit(reply);
    done(null, payload);
  };
  fastify.addHook('onSend', step);
  fastify.addHook('onRoute', (route) => {
    if (!route.onSend) return;
    route.onSend = [...(Array.isArray(route.onSend) ? route.onSend : [route.onSend]), step];
  });
}
