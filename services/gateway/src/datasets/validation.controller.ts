import { Controller, Get, Headers, Logger, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import { FINISHED_JOB_STATUSES, type ValidationStatus } from '@flotilla/contracts';
import { openEventStream } from '../http/event-stream.js';
import { servedByFastRoute } from '../http/fast-route.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { DatasetsService, type VersionedStatus } from './datasets.service.js';

/** How often the event stream looks for a change, and how long it lives at most. */
const EVENTS_POLL_MS = 500;
const EVENTS_MAX_MS = 30 * 60_000;

@ApiTags('datasets')
@ApiBearerAuth()
@Controller('validation')
export class ValidationController {
  private readonly logger = new Logger(ValidationController.name);

  constructor(
    private readonly datasets: DatasetsService,
    private readonly requestLog: RequestLogService,
  ) {}

  /** Served by StatusRoute, outside Nest's per-request chain; declared here for the router and the OpenAPI document. */
  @Get(':datasetId/status')
  @ApiOkResponse({ description: 'The latest validation job; ETag, 304 on If-None-Match, Retry-After while not finished' })
  status(@Param('datasetId') _datasetId: string, @Headers('if-none-match') _ifNoneMatch: string | undefined): Promise<ValidationStatus> {
    return servedByFastRoute('StatusRoute');
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
