import { Body, Controller, Delete, Get, HttpCode, Logger, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { AdminRpc, type AdminStats, type ServiceInstance } from '@flotilla/contracts';
import { openEventStream } from '../http/event-stream.js';
import { Endpoint } from '../http/openapi/endpoint.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { AdminConsoleService } from './admin-console.service.js';
import { DeadLetterBulkDto, DeadLetterDiscardResultDto, DeadLetterReplayResultDto } from './dead-letters.dto.js';
import { AdminStatsDto } from './dto/admin-stats.dto.js';
import { RequestPageDto } from './dto/request-log.dto.js';
import { ServiceInstanceListDto } from './dto/services.dto.js';
import { CleanupLogDto, CleanupRunDto } from './dto/cleanup.dto.js';

const LIVE_INTERVAL_MS = 2000;
const LIVE_MAX_MS = 60 * 60_000;

/**
 * `/admin/*` of API.md (administrators only). Query parameters are passed through and
 * checked by the admin service (400 naming the bad one).
 */
@ApiTags('admin')
@Roles('admin')
@Controller('admin')
export class AdminConsoleController {
  private readonly logger = new Logger(AdminConsoleController.name);

  constructor(
    private readonly admin: AdminConsoleService,
    private readonly requestLog: RequestLogService,
  ) {}

  @Get('stats')
  @Endpoint({ id: 'getAdminStats', summary: 'Platform figures', description: 'Counts by status, queue depths, requests and error rate over the last hour.', access: 'admin', slow: true })
  @ApiOkResponse({ type: AdminStatsDto, description: 'Counts by status, queue depths, requests and error rate over the last hour' })
  stats(@CurrentUser() user: AuthUser): Promise<AdminStats> {
    return this.admin.stats(user);
  }

  @Get('requests')
  @Endpoint({ id: 'listRequests', summary: 'Request log', description: 'Requests, newest first, filtered by status, method, route, user and time; 400 naming a bad filter.', access: 'admin', slow: true })
  @ApiOkResponse({ type: RequestPageDto, description: 'Request log: ?status&method&route&userId&from&to&cursor&limit' })
  requests(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Requests, query, user);
  }

  @Get('audit')
  @Endpoint({ id: 'listAudit', summary: 'Audit log', description: 'Audited actions, newest first, filtered by actor, action and time; 400 naming a bad filter.', access: 'admin', slow: true })
  @ApiOkResponse({ description: 'Audit log: ?actor&action&from&to&cursor&limit' })
  audit(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Audit, query, user);
  }

  @Get('datasets')
  @Endpoint({ id: 'listAllDatasets', summary: "Every team's datasets", description: "Every team's datasets, a page at a time.", access: 'admin', slow: true })
  @ApiOkResponse({ description: "Every team's datasets: ?cursor&limit" })
  datasets(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Datasets, query, user);
  }

  @Get('validations')
  @Endpoint({ id: 'listAllValidations', summary: 'Validation jobs', description: "Every team's validation jobs, by status, a page at a time.", access: 'admin', slow: true })
  @ApiOkResponse({ description: "Every team's validation jobs: ?status&cursor&limit" })
  validations(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Validations, query, user);
  }

  @Get('dead-letters')
  @Endpoint({ id: 'listDeadLetters', summary: 'Dead letters', description: 'Dead-lettered messages and stream entries, latest failure first, filtered by source, status and text.', access: 'admin', slow: true })
  @ApiOkResponse({
    description:
      'Dead-lettered messages and stream entries, latest failure first, with their error, replay count and history: ?source&status=dead|replaying|replayed|discarded&q&cursor&limit; `total` counts all that match, `sources` lists every queue and stream collected',
  })
  deadLetters(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.DeadLetters, query, user);
  }

  @Post('dead-letters/replay')
  @HttpCode(200)
  @Endpoint({ id: 'replayDeadLetters', summary: 'Replay dead letters', description: 'Sends every dead letter matching the filter back to where it failed (or counts them with `dryRun`).', access: 'admin', slow: true, body: true })
  @ApiOkResponse({ type: DeadLetterReplayResultDto, description: '`{matched, replayed, dryRun}`: the dead letters selected, and those sent back (each claimed first, so sent once)' })
  replayMany(@Body() body: DeadLetterBulkDto, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.ReplayDeadLetters, body, user);
  }

  @Post('dead-letters/discard')
  @HttpCode(200)
  @Endpoint({ id: 'discardDeadLetters', summary: 'Discard dead letters', description: 'Marks every dead letter matching the filter discarded (or counts them with `dryRun`).', access: 'admin', slow: true, body: true })
  @ApiOkResponse({ type: DeadLetterDiscardResultDto, description: '`{matched, discarded, dryRun}`: the dead letters selected, and those discarded' })
  discardMany(@Body() body: DeadLetterBulkDto, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.DiscardDeadLetters, body, user);
  }

  @Post('dead-letters/:id/replay')
  @HttpCode(202)
  @Endpoint({ id: 'replayDeadLetter', summary: 'Replay a dead letter', description: 'Claims it and sends it back to where it failed. 404 for no such dead letter; 409 when it is not dead; 503 when the send failed (it is dead again).', access: 'admin', slow: true, problems: [404, 409] })
  @ApiAcceptedResponse({ description: 'Claimed and sent back to where it failed: `replayed` (409 when it is not dead, 503 when the send failed and it is dead again)' })
  replay(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.ReplayDeadLetter, { id }, user);
  }

  @Delete('dead-letters/:id')
  @HttpCode(204)
  @Endpoint({ id: 'discardDeadLetter', summary: 'Discard a dead letter', description: 'Kept in the list, marked discarded. 404 for no such dead letter; 409 when it is not dead.', access: 'admin', slow: true, problems: [404, 409] })
  @ApiNoContentResponse({ description: 'Discarded (kept in the list, marked; 409 when it is not dead)' })
  async discard(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.admin.call(AdminRpc.DiscardDeadLetter, { id }, user);
  }

  @Post('cleanup/run')
  @HttpCode(202)
  @Endpoint({ id: 'runCleanup', summary: 'Run retention cleanup', description: 'Queues a retention cleanup now; its run shows in the log.', access: 'admin', slow: true })
  @ApiAcceptedResponse({ type: CleanupRunDto, description: 'Retention cleanup queued; its run in the log' })
  cleanup(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.RunCleanup, {}, user);
  }

  @Get('cleanup/log')
  @Endpoint({ id: 'listCleanupRuns', summary: 'Cleanup log', description: 'Retention cleanup runs, newest first.', access: 'admin', slow: true })
  @ApiOkResponse({ type: CleanupLogDto, description: 'Cleanup runs, newest first' })
  cleanupLog(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.CleanupLog, {}, user);
  }

  @Get('services')
  @Endpoint({ id: 'listServices', summary: 'Service instances', description: 'Every service instance seen: version, uptime, readiness, last heartbeat and transitions.', access: 'admin', slow: true })
  @ApiOkResponse({ type: ServiceInstanceListDto, description: 'Every service instance seen: version, uptime, ready, last heartbeat, up/down/stopped transitions' })
  services(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Services, {}, user);
  }

  /**
   * Server-sent events for the live console: `stats` every 2 s, `service` when an
   * instance goes up or down. Browsers' EventSource sends no headers, so this route
   * also takes the access token as `?access_token=` (removed before anything logs the URL).
   */
  @Get('events')
  @Endpoint({ id: 'streamAdminEvents', summary: 'Live console events', description: 'Server-sent events: `stats` every 2 s, `service` when an instance goes up or down. EventSource sends no headers, so the token may also come as `?access_token=`.', access: 'admin', slow: true })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream of `stats` and `service` events', content: { 'text/event-stream': { schema: { type: 'string', maxLength: 10_000_000 } } } })
  async events(@CurrentUser() user: AuthUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const stats = await this.admin.stats(user);
    const stream = openEventStream(request, reply, this.requestLog);
    const send = (event: string, data: unknown): void => stream.send(event, data);
    const known = new Map<string, string>();
    const services = async (): Promise<void> => {
      const { items } = await this.admin.call<{ items: ServiceInstance[] }>(AdminRpc.Services, {}, user);
      for (const instance of items) {
        if (known.has(instance.instanceId) && known.get(instance.instanceId) !== instance.status) send('service', instance);
        known.set(instance.instanceId, instance.status);
      }
    };
    send('stats', stats);
    await services().catch(() => undefined);
    const deadline = Date.now() + LIVE_MAX_MS;
    while (!stream.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LIVE_INTERVAL_MS));
      if (stream.closed) break;
      try {
        send('stats', await this.admin.stats(user));
        await services();
      } catch (error) {
        // The admin service is away for a moment: say so, keep the stream.
        send('unavailable', { detail: error instanceof Error ? error.message : String(error) });
        this.logger.debug(`live console stream: ${String(error)}`);
      }
    }
    stream.end();
  }
}
