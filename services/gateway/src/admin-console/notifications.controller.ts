import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../http/openapi/endpoint.js';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { AdminRpc, CreateNotificationChannelDto, type NotificationChannel, type NotificationDelivery } from '@flotilla/contracts';
import { AdminConsoleService } from './admin-console.service.js';
import { NotificationChannelDto, NotificationChannelListDto, NotificationDeliveryListDto, NotificationTestDto } from './notifications.dto.js';

/**
 * `/admin/notifications` (API.md): the channels admins are told through about stores,
 * services and dead letters. Answered by the admin service, which audits each change.
 */
@ApiTags('admin')
@Roles('admin')
@Controller('admin/notifications')
export class NotificationsController {
  constructor(private readonly admin: AdminConsoleService) {}

  @Get()
  @Endpoint({ id: 'listNotificationChannels', summary: 'Notification channels', description: 'Every channel, oldest first, with its latest delivery; webhook secrets are never returned.', access: 'admin', slow: true })
  @ApiOkResponse({ type: NotificationChannelListDto, description: 'Every channel, oldest first, with its latest delivery; webhook secrets are never returned' })
  list(@CurrentUser() user: AuthUser): Promise<{ items: NotificationChannel[] }> {
    return this.admin.call(AdminRpc.Notifications, {}, user);
  }

  @Post()
  @Endpoint({ id: 'createNotificationChannel', summary: 'Create a notification channel', description: 'A webhook or e-mail channel for store, service and dead-letter events; 400 naming each invalid field.', access: 'admin', slow: true, body: true })
  @ApiCreatedResponse({
    type: NotificationChannelDto,
    description: 'The channel; an e-mail channel created while SMTP is not configured carries a `warning` (its deliveries fail until SMTP_URL and SMTP_FROM are set)',
  })
  create(@Body() body: CreateNotificationChannelDto, @CurrentUser() user: AuthUser): Promise<NotificationChannel> {
    return this.admin.call(AdminRpc.CreateNotification, body, user);
  }

  @Delete(':id')
  @HttpCode(204)
  @Endpoint({ id: 'deleteNotificationChannel', summary: 'Delete a notification channel', description: 'Deleted with its deliveries. 400 when the id is not a UUID; 404 for no such channel.', access: 'admin', slow: true, problems: [404] })
  @ApiNoContentResponse({ description: 'Deleted with its deliveries' })
  async remove(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.admin.call(AdminRpc.DeleteNotification, { id }, user);
  }

  @Post(':id/test')
  @HttpCode(202)
  @Endpoint({ id: 'testNotificationChannel', summary: 'Test a notification channel', description: 'Queues a `test` delivery. 400 when the id is not a UUID; 404 for no such channel.', access: 'admin', slow: true, problems: [404] })
  @ApiAcceptedResponse({ type: NotificationTestDto, description: 'A `test` delivery queued; its outcome is in the deliveries' })
  test(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.TestNotification, { id }, user);
  }

  @Get(':id/deliveries')
  @Endpoint({ id: 'listNotificationDeliveries', summary: 'Deliveries of a channel', description: 'Newest first. 400 when the id is not a UUID or limit is not 1 to 200; 404 for no such channel.', access: 'admin', slow: true, problems: [404] })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 200, default 50', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  @ApiOkResponse({ type: NotificationDeliveryListDto, description: "The channel's deliveries, newest first: pending (with attempts and the last error while retried), sent, or dead" })
  deliveries(@Param('id') id: string, @Query('limit') limit: string | undefined, @CurrentUser() user: AuthUser): Promise<{ items: NotificationDelivery[] }> {
    return this.admin.call(AdminRpc.NotificationDeliveries, { id, ...(limit !== undefined ? { limit } : {}) }, user);
  }
}
