import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ENV, Naming } from '@flotilla/config';
import { TokenVerifier, type AuthUser } from '@flotilla/auth';
import { decodeStatusSnapshot, FINISHED_JOB_STATUSES, mayAccessTeam, statusSnapshotKey, type ValidationStatus } from '@flotilla/contracts';
import type { GatewayEnv } from '../gateway.env.js';
import { FastRoute } from '../http/fast-route.js';
import { RateLimiter, userLimits, type LimitVerdict } from '../rate-limit/rate-limiter.service.js';
import { TooManyRequestsException } from '../rate-limit/too-many-requests.exception.js';
import { DatasetsService, isDatasetId } from './datasets.service.js';

/** Seconds a client should wait before asking again: soon while queued, a little longer while running. */
function retryAfter(status: Pick<ValidationStatus, 'status'>): number {
  return status.status === 'queued' ? 1 : 2;
}

/** The headers of a status answer: its ETag, no shared caching, and Retry-After while the job is not finished. */
function statusHeaders(status: Pick<ValidationStatus, 'status'>, version: string): Record<string, string> {
  const headers: Record<string, string> = { ETag: `"${version}"`, 'Cache-Control': 'private, no-cache' };
  if (!FINISHED_JOB_STATUSES.includes(status.status)) headers['Retry-After'] = String(retryAfter(status));
  return headers;
}

/** Whether `If-None-Match` names the current ETag (weak or strong), so 304 answers it. */
function notModified(ifNoneMatch: string | undefined, version: string): boolean {
  const etag = `"${version}"`;
  return !!ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === `W/${etag}`);
}

/**
 * `GET /api/v1/validation/:datasetId/status` without Nest's per-request chain, answering
 * from the validator's snapshot in Redis when there is one (see `statusSnapshotKey`):
 * the rate-limit counters and the snapshot are one script, so such a poll is one Redis
 * round trip. The snapshot carries the dataset's team, so tenancy is checked here; for
 * anyone else, or without a snapshot, the answer comes from `upload` and `validator` as
 * in ValidationController, which this route's answers match: 401, 429 with Retry-After,
 * 404, 200 with ETag, Cache-Control and Retry-After while running, 304 on If-None-Match.
 */
@Injectable()
export class StatusRoute extends FastRoute {
  constructor(
    tokens: TokenVerifier,
    private readonly datasets: DatasetsService,
    private readonly limiter: RateLimiter,
    private readonly naming: Naming,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {
    super('GET', tokens);
  }

  protected async serve(request: FastifyRequest, reply: FastifyReply, user: AuthUser): Promise<void> {
    const { datasetId } = request.params as { datasetId: string };
    const ifNoneMatch = request.headers['if-none-match'];
    const [ip, member] = userLimits(this.env, request.ip, user.id);
    // Redis down: limits are not enforced and there is no snapshot; the services answer.
    const verdict: LimitVerdict & { value?: string } = isDatasetId(datasetId)
      ? await this.limiter.hitThenGet(ip, member, this.env.RATE_LIMIT_WINDOW_SECONDS, this.naming.key(statusSnapshotKey(datasetId)))
      : await this.limiter.hit([ip, member], this.env.RATE_LIMIT_WINDOW_SECONDS);
    if (!verdict.allowed) throw new TooManyRequestsException(verdict.retryAfterSeconds);
    const snapshot = verdict.value === undefined ? undefined : decodeStatusSnapshot(verdict.value);
    if (snapshot && mayAccessTeam(user, snapshot.teamId)) {
      void reply.headers(statusHeaders({ status: snapshot.jobStatus }, snapshot.version));
      if (notModified(ifNoneMatch, snapshot.version)) void reply.code(304).send();
      // The JSON as the validator wrote it: what serialising the parsed status would give.
      else void reply.type('application/json; charset=utf-8').send(snapshot.statusJson);
      return;
    }
    const versioned = await this.datasets.status(datasetId, user);
    void reply.headers(statusHeaders(versioned.status, versioned.version));
    if (notModified(ifNoneMatch, versioned.version)) void reply.code(304).send();
    else void reply.send(versioned.status);
  }
}
