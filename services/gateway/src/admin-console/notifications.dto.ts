import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NOTIFICATION_LIMITS, NotificationChannelKinds, NotificationEvents } from '@flotilla/contracts';

/** Delivery errors are kept to their first 1000 characters (admin's deliverer). */
const DELIVERY_ERROR_MAX = 1000;

export class NotificationLastDeliveryDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: ['pending', 'sent', 'dead'] }) status!: string;
  @ApiProperty({ type: String, nullable: true, maxLength: DELIVERY_ERROR_MAX }) error!: string | null;
}

export class NotificationChannelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: NotificationChannelKinds }) kind!: string;
  @ApiPropertyOptional({ description: 'Webhooks', format: 'uri', maxLength: NOTIFICATION_LIMITS.urlMax }) url?: string;
  @ApiPropertyOptional({ type: [String], description: 'E-mail', maxItems: NOTIFICATION_LIMITS.recipientsMax, items: { type: 'string', maxLength: NOTIFICATION_LIMITS.addressMax } }) to?: string[];
  @ApiProperty({ enum: [...NotificationEvents, 'test'], isArray: true, maxItems: NotificationEvents.length + 1 }) events!: string[];
  @ApiPropertyOptional({ description: 'Webhooks: a secret is set (it is never returned)' }) secretSet?: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The administrator who created it' }) createdBy!: string | null;
  @ApiProperty({ type: NotificationLastDeliveryDto, nullable: true }) lastDelivery!: NotificationLastDeliveryDto | null;
  @ApiPropertyOptional({ description: 'On creation: why deliveries will fail (an e-mail channel while SMTP is not configured)', maxLength: 500 }) warning?: string;
}

export class NotificationChannelListDto {
  @ApiProperty({ type: [NotificationChannelDto] }) items!: NotificationChannelDto[];
}

export class NotificationDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Sent as X-Flotilla-Delivery, the same on every retry' }) id!: string;
  @ApiProperty({ enum: [...NotificationEvents, 'test'] }) event!: string;
  @ApiProperty({ enum: ['pending', 'sent', 'dead'], description: '`dead`: every attempt failed' }) status!: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 20, description: 'At most NOTIFY_MAX_ATTEMPTS (1 to 20)' }) attempts!: number;
  @ApiProperty({ type: String, nullable: true, maxLength: DELIVERY_ERROR_MAX }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sentAt!: string | null;
}

export class NotificationDeliveryListDto {
  @ApiProperty({ type: [NotificationDeliveryDto], maxItems: 200, description: 'At most `limit` (200)' }) items!: NotificationDeliveryDto[];
}

export class NotificationTestDto {
  @ApiProperty({ format: 'uuid', description: 'The queued `test` delivery' }) deliveryId!: string;
  @ApiProperty({ enum: ['pending'] }) status!: string;
}
