import { Controller, Get, Headers, Logger, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import { FINISHED_JOB_STATUSES, type ValidationStatus } from '@flotilla/contracts';
import { openEventStream } from '../http/event-stream.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { DatasetsService, type VersionedStatus } from './datasets.service.js';

/** How often the event stream looks for a change, and how long it lives at most. */
const EVENTS_POLL_MS = 500;
const EVENTS_MAX_MS = 30 * 60_000;

/** Seconds a client should wait before asking again: soon while queued, a little longer while running. */
function retryAfter(status: Pick<ValidationStatus, 'status'>): number {
  return status.status === 'queued' ? 1 : 2;
}

/** The headers of a status answer: its ETag, no shared caching, and Retry-After while the job is not finished. */
export function statusHeaders(status: Pick<ValidationStatus, 'status'>, version: string): Record<string, string> {
  const headers: Record<string, string> = { ETag: `"${version}"`, 'Cache-Control': 'private, no-cache' };
  if (!FINISHED_JOB_STATUSES.includes(status.status)) headers['Retry-After'] = String(retryAfter(status));
  return headers;
}

/** Whether `If-None-Match` names the current ETag (weak or strong), so 304 answers it. */
export function notModified(ifNoneMatch: string | undefined, version: string): boolean {
  const etag = `"${version}"`;
  return !!ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === `W/${etag}`);
}

@ApiTags('datasets')
@ApiBearerAuth()
@Controller('validation')
export class ValidationController {
  private readonly logger = new Logger(ValidationController.name);

  constructor(
    private readonly datasets: DatasetsService,
    private readonly requestLog: RequestLogService,
  ) {}

  @Get(':datasetId/status')
  @ApiOkResponse({ description: 'The latest validation job; ETag, 304 on If-None-Match, Retry-After while not finished' })
  async status(
    @Param('datasetId') datasetId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ValidationStatus | undefined> {
    // Served by StatusRoute (same answers); this handler documents the route.
    const versioned = await this.datasets.status(datasetId, user);
    void reply.headers(statusHeaders(versioned.status, versioned.version));
    if (notModified(ifNoneMatch, versioned.version)) {
      void reply.status(304);
      return undefined;
    }
    return versioned.status;
  }

  /**
   * Server-sent events: a `status` event now and on every change, closed once the job
   * is finished. Errors before the first event are ordinary problem+json responses.
   */
  @Get(':datasetId/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream of `status` events, closed when the job finishes' })
  async events(
    @Param('datasetId') datasetId: string,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    let current = await this.datasets.status(datasetId, user);
    const stream = openEventStream(request, reply, this.requestLog);
    const send = (v: VersionedStatus): void => stream.send('status', v.status, v.version);
    send(current);
    const deadline = Date.now() + EVENTS_MAX_MS;
    try {
      while (!stream.closed && !FINISHED_JOB_STATUSES.includes(current.status.status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, EVENTS_POLL_MS));
        if (stream.closed) break;
        const next = await this.datasets.status(datasetId, user);
        if (next.version !== current.version) send(next);
        else stream.keepAlive();
        current = next;
      }
    } catch (error) {
      // The dataset was deleted, or a service went away: say so, then close.
      const detail = error instanceof Error ? error.message : String(error);
      this.logger.warn(`validation events of ${datasetId} ended: ${detail}`);
      if (!stream.closed) stream.send('error', { detail });
    }
    stream.end();
  }
}
