import { Body, Controller, Delete, Get, HttpCode, Logger, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { AdminRpc, type AdminStats, type ServiceInstance } from '@flotilla/contracts';
import { openEventStream } from '../http/event-stream.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { AdminConsoleService } from './admin-console.service.js';
import { DeadLetterBulkDto } from './dead-letters.dto.js';

const LIVE_INTERVAL_MS = 2000;
const LIVE_MAX_MS = 60 * 60_000;

/**
 * `/admin/*` of API.md (administrators only). Query parameters are passed through and
 * checked by the admin service (400 naming the bad one).
 */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin')
export class AdminConsoleController {
  private readonly logger = new Logger(AdminConsoleController.name);

  constructor(
    private readonly admin: AdminConsoleService,
    private readonly requestLog: RequestLogService,
  ) {}

  @Get('stats')
  @ApiOkResponse({ description: 'Counts by status, queue depths, requests and error rate over the last hour' })
  stats(@CurrentUser() user: AuthUser): Promise<AdminStats> {
    return this.admin.stats(user);
  }

  @Get('requests')
  @ApiOkResponse({ description: 'Request log: ?status&method&route&userId&from&to&cursor&limit' })
  requests(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Requests, query, user);
  }

  @Get('audit')
  @ApiOkResponse({ description: 'Audit log: ?actor&action&from&to&cursor&limit' })
  audit(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Audit, query, user);
  }

  @Get('datasets')
  @ApiOkResponse({ description: "Every team's datasets: ?cursor&limit" })
  datasets(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Datasets, query, user);
  }

  @Get('validations')
  @ApiOkResponse({ description: "Every team's validation jobs: ?status&cursor&limit" })
  validations(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Validations, query, user);
  }

  @Get('dead-letters')
  @ApiOkResponse({
    description:
      'Dead-lettered messages and stream entries, latest failure first, with their error, replay count and history: ?source&status=dead|replaying|replayed|discarded&q&cursor&limit; `total` counts all that match, `sources` lists every queue and stream collected',
  })
  deadLetters(@Query() query: Record<string, string>, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.DeadLetters, query, user);
  }

  @Post('dead-letters/replay')
  @HttpCode(200)
  @ApiOkResponse({ description: '`{matched, replayed, dryRun}`: the dead letters selected, and those sent back (each claimed first, so sent once)' })
  replayMany(@Body() body: DeadLetterBulkDto, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.ReplayDeadLetters, body, user);
  }

  @Post('dead-letters/discard')
  @HttpCode(200)
  @ApiOkResponse({ description: '`{matched, discarded, dryRun}`: the dead letters selected, and those discarded' })
  discardMany(@Body() body: DeadLetterBulkDto, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.DiscardDeadLetters, body, user);
  }

  @Post('dead-letters/:id/replay')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Claimed and sent back to where it failed: `replayed` (409 when it is not dead, 503 when the send failed and it is dead again)' })
  replay(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.ReplayDeadLetter, { id }, user);
  }

  @Delete('dead-letters/:id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Discarded (kept in the list, marked; 409 when it is not dead)' })
  async discard(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.admin.call(AdminRpc.DiscardDeadLetter, { id }, user);
  }

  @Post('cleanup/run')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Retention cleanup queued; its run in the log' })
  cleanup(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.RunCleanup, {}, user);
  }

  @Get('cleanup/log')
  @ApiOkResponse({ description: 'Cleanup runs, newest first' })
  cleanupLog(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.CleanupLog, {}, user);
  }

  @Get('services')
  @ApiOkResponse({ description: 'Every service instance seen: version, uptime, ready, last heartbeat, up/down/stopped transitions' })
  services(@CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.Services, {}, user);
  }

  /**
   * Server-sent events for the live console: `stats` every 2 s, `service` when an
   * instance goes up or down. Browsers' EventSource sends no headers, so this route
   * also takes the access token as `?access_token=` (removed before anything logs the URL).
   */
  @Get('events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream of `stats` and `service` events' })
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
