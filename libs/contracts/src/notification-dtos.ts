import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsEmail, IsIn, IsString, IsUrl, Length, MaxLength, ValidateIf } from 'class-validator';
import { NOTIFICATION_LIMITS, NotificationChannelKinds, NotificationEvents, type NotificationChannelKind } from './notifications.js';

const isWebhook = (o: { kind?: unknown }): boolean => o.kind === 'webhook';
const isEmail = (o: { kind?: unknown }): boolean => o.kind === 'email';

/** Body of `POST /admin/notifications`: checked by the gateway (400) and again by the admin service, which also refuses the other kind's fields. */
export class CreateNotificationChannelDto {
  @ApiProperty({ enum: NotificationChannelKinds })
  @IsIn(NotificationChannelKinds)
  kind!: NotificationChannelKind;

  @ApiPropertyOptional({ description: 'Webhooks: where deliveries are POSTed (http or https; redirects are not followed)', maxLength: NOTIFICATION_LIMITS.urlMax, example: 'https://hooks.example.com/flotilla' })
  @ValidateIf((o: CreateNotificationChannelDto) => isWebhook(o) || o.url !== undefined)
  @IsString()
  @MaxLength(NOTIFICATION_LIMITS.urlMax)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: true, disallow_auth: true }, { message: 'url must be an http:// or https:// URL without credentials' })
  url?: string;

  @ApiPropertyOptional({
    description: 'Webhooks: the key of the X-Flotilla-Signature HMAC; never returned (`secretSet`)',
    minLength: NOTIFICATION_LIMITS.secretMin,
    maxLength: NOTIFICATION_LIMITS.secretMax,
    writeOnly: true,
  })
  @ValidateIf((o: CreateNotificationChannelDto) => isWebhook(o) || o.secret !== undefined)
  @IsString()
  @Length(NOTIFICATION_LIMITS.secretMin, NOTIFICATION_LIMITS.secretMax)
  secret?: string;

  @ApiPropertyOptional({ description: 'E-mail: the recipients', type: [String], minItems: 1, maxItems: NOTIFICATION_LIMITS.recipientsMax, example: ['ops@example.com'] })
  @ValidateIf((o: CreateNotificationChannelDto) => isEmail(o) || o.to !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NOTIFICATION_LIMITS.recipientsMax)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(NOTIFICATION_LIMITS.addressMax, { each: true })
  @IsEmail({ require_tld: false }, { each: true, message: 'each address in to must be an e-mail address' })
  to?: string[];

  @ApiProperty({ description: 'What the channel is told about', enum: NotificationEvents, isArray: true, minItems: 1 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NotificationEvents.length)
  @ArrayUnique()
  @IsIn(NotificationEvents, { each: true })
  events!: string[];
}
