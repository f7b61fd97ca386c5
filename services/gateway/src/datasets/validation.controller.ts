import { Controller, Get, Headers, Logger, Param, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import { FINISHED_JOB_STATUSES, type ValidationStatus } from '@flotilla/contracts';
import { openEventStream } from '../http/event-stream.js';
import { servedByFastRoute } from '../http/fast-route.js';
import { Endpoint } from '../http/openapi/endpoint.js';
import { ValidationStatusDto } from './dto/dataset-responses.dto.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { DatasetsService, type VersionedStatus } from './datasets.service.js';
import { ValidationUpdates } from './validation-updates.js';

/**
 * A stream re-reads the status when a `validation.*` event says its job changed, and
 * otherwise only this often: an event lost while the broker was away costs at most this
 * delay, and the idle stream's keep-alive comment goes out as often. It lives 30 min at most.
 */
const EVENTS_REREAD_MS = 15_000;
const EVENTS_MAX_MS = 30 * 60_000;

@ApiTags('datasets')
@Controller('validation')
export class ValidationController {
  private readonly logger = new Logger(ValidationController.name);

  constructor(
    private readonly datasets: DatasetsService,
    private readonly requestLog: RequestLogService,
    private readonly updates: ValidationUpdates,
  ) {}

  /** Served by StatusRoute, outside Nest's per-request chain; declared here for the router and the OpenAPI document. */
  @Get(':datasetId/status')
  @Endpoint({
    id: 'getValidationStatus',
    summary: 'Validation status',
    description: 'The latest validation job of the dataset, cheap to poll: an ETag (304 on If-None-Match) and `Retry-After` while it is not finished. 404 for an unknown dataset or one never completed.',
    access: 'user',
    slow: true,
    problems: [403, 404],
  })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of the last answer', schema: { type: 'string', maxLength: 8192 } })
  @ApiOkResponse({
    type: ValidationStatusDto,
    description: 'The latest validation job',
    headers: {
      ETag: { description: 'Version of the status', schema: { type: 'string', maxLength: 200 } },
      'Retry-After': { description: 'Seconds until polling again is useful (while the job is not finished)', schema: { type: 'integer', minimum: 0, maximum: 60 } },
    },
  })
  @ApiResponse({ status: 304, description: 'Unchanged since the ETag in If-None-Match' })
  status(@Param('datasetId') _datasetId: string, @Headers('if-none-match') _ifNoneMatch: string | undefined): Promise<ValidationStatus> {
    return servedByFastRoute('StatusRoute');
  }

  /**
   * Server-sent events: a `status` event now and on every change, closed once the job
   * is finished. Errors before the first event are ordinary problem+json responses.
   * Changes are pushed: the status is read again when a `validation.*` event about the
   * dataset reaches this gateway (see {@link ValidationUpdates}), not on a timer.
   */
  @Get(':datasetId/events')
  @ApiProduces('text/event-stream')
  @Endpoint({
    id: 'streamValidationStatus',
    summary: 'Validation status events',
    description: 'Server-sent events: a `status` event now and on every change, closed once the job is finished. Errors before the first event are problem+json answers (404 for an unknown dataset).',
    access: 'user',
    slow: true,
    problems: [403, 404],
  })
  @ApiOkResponse({ description: 'text/event-stream of `status` events, closed when the job finishes', content: { 'text/event-stream': { schema: { type: 'string', maxLength: 10_000_000 } } } })
  async events(
    @Param('datasetId') datasetId: string,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Watching before the first read: a change between that read and the first wait is not missed.
    const watch = this.updates.watch(datasetId);
    try {
      let current = await this.datasets.status(datasetId, user);
      const stream = openEventStream(request, reply, this.requestLog);
      const send = (v: VersionedStatus): void => stream.send('status', v.status, v.version);
      send(current);
      const deadline = Date.now() + EVENTS_MAX_MS;
      try {
        while (!stream.closed && !FINISHED_JOB_STATUSES.includes(current.status.status) && Date.now() < deadline) {
          const changed = await watch.next(Math.min(EVENTS_REREAD_MS, Math.max(0, deadline - Date.now())), stream.signal);
          if (stream.closed) break;
          const next = await this.datasets.status(datasetId, user);
          if (next.version !== current.version) send(next);
          else if (!changed) stream.keepAlive();
          current = next;
        }
      } catch (error) {
        // The dataset was deleted, or a service went away: say so, then close.
        const detail = error instanceof Error ? error.message : String(error);
        this.logger.warn(`validation events of ${datasetId} ended: ${detail}`);
        if (!stream.closed) stream.send('error', { detail });
      }
      stream.end();
    } finally {
      watch.close();
    }
  }
}
