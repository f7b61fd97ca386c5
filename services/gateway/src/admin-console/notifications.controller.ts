import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '@flotilla/auth';
import { AdminRpc, CreateNotificationChannelDto, type NotificationChannel, type NotificationDelivery } from '@flotilla/contracts';
import { AdminConsoleService } from './admin-console.service.js';
import { NotificationChannelDto, NotificationChannelListDto, NotificationDeliveryListDto, NotificationTestDto } from './notifications.dto.js';

/**
 * `/admin/notifications` (API.md): the channels admins are told through about stores,
 * services and dead letters. Answered by the admin service, which audits each change.
 */
@ApiTags('admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The caller is not an administrator' })
@Roles('admin')
@Controller('admin/notifications')
export class NotificationsController {
  constructor(private readonly admin: AdminConsoleService) {}

  @Get()
  @ApiOkResponse({ type: NotificationChannelListDto, description: 'Every channel, oldest first, with its latest delivery; webhook secrets are never returned' })
  list(@CurrentUser() user: AuthUser): Promise<{ items: NotificationChannel[] }> {
    return this.admin.call(AdminRpc.Notifications, {}, user);
  }

  @Post()
  @ApiCreatedResponse({
    type: NotificationChannelDto,
    description: 'The channel; an e-mail channel created while SMTP is not configured carries a `warning` (its deliveries fail until SMTP_URL and SMTP_FROM are set)',
  })
  @ApiBadRequestResponse({ description: 'A field that is not valid (kind, url, secret, to, events, or a field of the other kind), named in `errors`' })
  create(@Body() body: CreateNotificationChannelDto, @CurrentUser() user: AuthUser): Promise<NotificationChannel> {
    return this.admin.call(AdminRpc.CreateNotification, body, user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted with its deliveries' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such channel' })
  async remove(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.admin.call(AdminRpc.DeleteNotification, { id }, user);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: NotificationTestDto, description: 'A `test` delivery queued; its outcome is in the deliveries' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such channel' })
  test(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<unknown> {
    return this.admin.call(AdminRpc.TestNotification, { id }, user);
  }

  @Get(':id/deliveries')
  @ApiQuery({ name: 'limit', required: false, description: '1 to 200, default 50', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  @ApiOkResponse({ type: NotificationDeliveryListDto, description: "The channel's deliveries, newest first: pending (with attempts and the last error while retried), sent, or dead" })
  @ApiBadRequestResponse({ description: 'The id is not a UUID, or limit is not 1 to 200' })
  @ApiNotFoundResponse({ description: 'No such channel' })
  deliveries(@Param('id') id: string, @Query('limit') limit: string | undefined, @CurrentUser() user: AuthUser): Promise<{ items: NotificationDelivery[] }> {
    return this.admin.call(AdminRpc.NotificationDeliveries, { id, ...(limit !== undefined ? { limit } : {}) }, user);
  }
}
