import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NotificationChannelKinds, NotificationEvents } from '@flotilla/contracts';

export class NotificationLastDeliveryDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: ['pending', 'sent', 'dead'] }) status!: string;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

export class NotificationChannelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: NotificationChannelKinds }) kind!: string;
  @ApiPropertyOptional({ description: 'Webhooks' }) url?: string;
  @ApiPropertyOptional({ type: [String], description: 'E-mail' }) to?: string[];
  @ApiProperty({ enum: [...NotificationEvents, 'test'], isArray: true }) events!: string[];
  @ApiPropertyOptional({ description: 'Webhooks: a secret is set (it is never returned)' }) secretSet?: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The administrator who created it' }) createdBy!: string | null;
  @ApiProperty({ type: NotificationLastDeliveryDto, nullable: true }) lastDelivery!: NotificationLastDeliveryDto | null;
  @ApiPropertyOptional({ description: 'On creation: why deliveries will fail (an e-mail channel while SMTP is not configured)' }) warning?: string;
}

export class NotificationChannelListDto {
  @ApiProperty({ type: [NotificationChannelDto] }) items!: NotificationChannelDto[];
}

export class NotificationDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Sent as X-Flotilla-Delivery, the same on every retry' }) id!: string;
  @ApiProperty({ enum: [...NotificationEvents, 'test'] }) event!: string;
  @ApiProperty({ enum: ['pending', 'sent', 'dead'], description: '`dead`: every attempt failed' }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sentAt!: string | null;
}

export class NotificationDeliveryListDto {
  @ApiProperty({ type: [NotificationDeliveryDto] }) items!: NotificationDeliveryDto[];
}

export class NotificationTestDto {
  @ApiProperty({ format: 'uuid', description: 'The queued `test` delivery' }) deliveryId!: string;
  @ApiProperty({ enum: ['pending'] }) status!: string;
}
