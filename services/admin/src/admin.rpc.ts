import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { AdminPageQueryDto, AdminRpc, RpcError, UploadRpc, ValidatorAdminRpc, type RpcActor } from '@flotilla/contracts';
import { RpcClient, RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { AuditLog } from './audit/audit-log.js';
import { Cleanup } from './cleanup/cleanup.js';
import { bulkRequest, DeadLetterRefDto, DeadLettersQueryDto } from './dead-letters/dead-letter.dto.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { ServiceMonitor } from './health/service-monitor.js';
import { channelRef, ChannelRefInput, createChannelInput, DeliveriesQueryInput } from './notifications/channel-input.js';
import { NotificationChannels } from './notifications/channels.js';
import { RequestLog } from './requests/request-log.js';
import { Stats } from './stats/stats.js';


class RequestsQueryDto extends AdminPageQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(100) @Max(599) status?: number;
  @IsOptional() @IsIn(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'get', 'post', 'put', 'patch', 'delete', 'head', 'options']) method?: string;
  @IsOptional() @IsString() @MaxLength(200) route?: string;
  @IsOptional() @IsUUID() userId?: string;
  @IsOptional() @IsISO8601() from?: string;
  @IsOptional() @IsISO8601() to?: string;
}

class AuditQueryDto extends AdminPageQueryDto {
  @IsOptional() @IsString() @MaxLength(320) actor?: string;
  @IsOptional() @IsString() @MaxLength(100) action?: string;
  @IsOptional() @IsISO8601() from?: string;
  @IsOptional() @IsISO8601() to?: string;
}

class ValidationsQueryDto extends AdminPageQueryDto {
  @IsOptional() @IsIn(['queued', 'running', 'passed', 'failed', 'error']) status?: string;
}

/** The `admin.*` patterns behind the gateway's `/admin/*` routes; administrators only, checked here too. */
@Injectable()
export class AdminRpcHandlers implements OnModuleInit {
  constructor(
    private readonly server: RpcServer,
    private readonly rpc: RpcClient,
    private readonly requests: RequestLog,
    private readonly audit: AuditLog,
    private readonly deadLetters: DeadLetters,
    private readonly cleanup: Cleanup,
    private readonly services: ServiceMonitor,
    private readonly stats: Stats,
    private readonly notifications: NotificationChannels,
  ) {}

  onModuleInit(): void {
    const handle = (pattern: string, fn: (payload: unknown, actor: RpcActor) => Promise<unknown>): void =>
      this.server.handle(pattern, (payload, meta) => fn(payload, admin(meta)));
    handle(AdminRpc.Stats, (_, actor) => this.stats.gather(actor));
    handle(AdminRpc.Requests, async (p) => this.requests.query(await validatePayload(RequestsQueryDto, p)));
    handle(AdminRpc.Audit, async (p) => this.audit.query(await validatePayload(AuditQueryDto, p)));
    handle(AdminRpc.Datasets, async (p, actor) => this.rpc.call('upload', UploadRpc.List, { ...(await validatePayload(AdminPageQueryDto, p)), scope: 'all' }, { actor }));
    handle(AdminRpc.Validations, async (p, actor) => this.rpc.call('validator', ValidatorAdminRpc.List, await validatePayload(ValidationsQueryDto, p), { actor }));
    handle(AdminRpc.DeadLetters, async (p) => this.deadLetters.list(await validatePayload(DeadLettersQueryDto, p)));
    handle(AdminRpc.ReplayDeadLetter, async (p, actor) => this.deadLetters.replay((await validatePayload(DeadLetterRefDto, p)).id, actor));
    handle(AdminRpc.DiscardDeadLetter, async (p, actor) => this.deadLetters.discard((await validatePayload(DeadLetterRefDto, p)).id, actor));
    handle(AdminRpc.ReplayDeadLetters, async (p, actor) => {
      const { selection, dryRun } = await bulkRequest(p);
      return this.deadLetters.replayMany(selection, dryRun, actor);
    });
    handle(AdminRpc.DiscardDeadLetters, async (p, actor) => {
      const { selection, dryRun } = await bulkRequest(p);
      return this.deadLetters.discardMany(selection, dryRun, actor);
    });
    handle(AdminRpc.RunCleanup, (_, actor) => this.cleanup.runNow(actor));
    handle(AdminRpc.CleanupLog, async () => ({ items: await this.cleanup.log() }));
    handle(AdminRpc.Services, async () => ({ items: await this.services.list() }));
    handle(AdminRpc.Notifications, () => this.notifications.list());
    handle(AdminRpc.CreateNotification, async (p, actor) => this.notifications.create(await createChannelInput(p), actor));
    handle(AdminRpc.DeleteNotification, async (p, actor) => this.notifications.remove((await channelRef(ChannelRefInput, p)).id, actor).then(() => ({})));
    handle(AdminRpc.TestNotification, async (p, actor) => this.notifications.test((await channelRef(ChannelRefInput, p)).id, actor));
    handle(AdminRpc.NotificationDeliveries, async (p) => {
      const query = await channelRef(DeliveriesQueryInput, p);
      return this.notifications.deliveries(query.id, query.limit);
    });
  }
}

function admin(meta: RpcRequestMeta): RpcActor {
  if (meta.actor?.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators use the admin API.');
  return meta.actor;
}
