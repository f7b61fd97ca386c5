import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ENV } from '@flotilla/config';
import { TokenVerifier, type AuthUser } from '@flotilla/auth';
import { correlationId, createValidationPipe } from '@flotilla/observability';
import type { GatewayEnv } from '../gateway.env.js';
import { FastRoute } from '../http/fast-route.js';
import { RateLimiter, userLimits, type LimitCheck } from '../rate-limit/rate-limiter.service.js';
import { TooManyRequestsException } from '../rate-limit/too-many-requests.exception.js';
import { VoteDto } from './dto/polls.dto.js';
import { PollsService } from './polls.service.js';

/** The 503 detail when the votes stream cannot be written. */
const VOTES_UNAVAILABLE = 'Votes cannot be accepted right now; try again shortly.';
/** Longest option class-validator's `@Length(1, 100)` accepts; see {@link plainVote}. */
const MAX_OPTION = 100;
/** Characters validator.js does not count in a length (variation selectors, surrogate halves). */
const UNEVEN_LENGTH = /[\uFE0E\uFE0F\uD800-\uDFFF]/;

/**
 * The option of a body that is exactly `{ "option": <1–100 characters> }`, the shape
 * nearly every vote has, or undefined for anything else — which then goes through the
 * same ValidationPipe as every other route, so its 400 names the same problems.
 */
export function plainVote(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  let keys = 0;
  for (const key in body) {
    if (key !== 'option' || ++keys > 1) return undefined;
  }
  const option = (body as { option?: unknown }).option;
  if (typeof option !== 'string' || option.length < 1 || option.length > MAX_OPTION || UNEVEN_LENGTH.test(option)) return undefined;
  return option;
}

/**
 * `POST /api/v1/polls/:pollId/votes` without Nest's per-request chain. The route stays
 * declared by `PollsController` (so it is in the OpenAPI document and the router) and this
 * replaces its handler when Fastify registers it. It does what the guards, the pipe and
 * the controller do, in the same order and with the same answers — 401, 429 with
 * Retry-After, 400, 404, 422, 503, else 202 `{voteId, pollId, option}` — but with a cached
 * token verification and, for an accepted vote, one Redis round trip: the per-IP and
 * per-user counters and the XADD in one script.
 */
@Injectable()
export class VoteRoute extends FastRoute {
  private readonly pipe = createValidationPipe();

  constructor(
    tokens: TokenVerifier,
    private readonly polls: PollsService,
    private readonly limiter: RateLimiter,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {
    // A vote needs Redis, not Postgres: known voters keep voting while Postgres is down.
    super('POST', tokens, true);
  }

  protected async serve(request: FastifyRequest, reply: FastifyReply, user: AuthUser): Promise<void> {
    // Awaits only what cannot be answered at once: a poll not yet known, a body that is not a plain vote.
    const { pollId } = request.params as { pollId: string };
    const [ip, member] = userLimits(this.env, request.ip, user.id);
    let option = plainVote(request.body);
    try {
      option ??= ((await this.pipe.transform(request.body, { type: 'body', metatype: VoteDto })) as VoteDto).option;
      const checking = this.polls.checkVote(pollId, option);
      if (checking) await checking;
    } catch (error) {
      // Refused votes count against the limits too, and a caller past them hears 429 first.
      await this.limit([ip, member]);
      throw error;
    }
    const voteId = randomUUID();
    const requestId = (request as { correlationId?: string }).correlationId ?? correlationId();
    const origin = { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' };
    let verdict;
    try {
      verdict = await this.limiter.hitThenAppend(ip, member, this.env.RATE_LIMIT_WINDOW_SECONDS, this.polls.votesStream, this.polls.voteEntry(voteId, pollId, option, user, origin, requestId));
    } catch {
      throw new ServiceUnavailableException(VOTES_UNAVAILABLE);
    }
    if (!verdict.allowed) throw new TooManyRequestsException(verdict.retryAfterSeconds);
    this.polls.accepted();
    void reply.code(202).send({ voteId, pollId, option });
  }

  private async limit(checks: LimitCheck[]): Promise<void> {
    const verdict = await this.limiter.hit(checks, this.env.RATE_LIMIT_WINDOW_SECONDS);
    if (!verdict.allowed) throw new TooManyRequestsException(verdict.retryAfterSeconds);
  }
}
