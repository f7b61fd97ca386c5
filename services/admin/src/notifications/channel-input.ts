import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsEmail, IsIn, IsOptional, IsString, IsUrl, IsUUID, Length, MaxLength, ValidateIf } from 'class-validator';
import { NOTIFICATION_LIMITS, NotificationChannelKinds, NotificationEvents, RpcError, type NotificationChannelKind } from '@flotilla/contracts';
import { validatePayload } from '@flotilla/messaging';

/** The longest string any field takes, far above each field's own bound. */
const MAX_TEXT = 16_384;

const isWebhook = (o: { kind?: unknown }): boolean => o.kind === 'webhook';
const isEmail = (o: { kind?: unknown }): boolean => o.kind === 'email';

/** Body of `POST /admin/notifications`, as the admin service checks it again (the gateway's DTO says the same, with its schema). */
export class CreateChannelInput {
  @IsIn(NotificationChannelKinds)
  kind!: NotificationChannelKind;

  @ValidateIf((o: CreateChannelInput) => isWebhook(o) || o.url !== undefined)
  @IsString()
  @MaxLength(NOTIFICATION_LIMITS.urlMax)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: true, disallow_auth: true }, { message: 'url must be an http:// or https:// URL without credentials' })
  url?: string;

  @ValidateIf((o: CreateChannelInput) => isWebhook(o) || o.secret !== undefined)
  @IsString()
  @Length(NOTIFICATION_LIMITS.secretMin, NOTIFICATION_LIMITS.secretMax)
  secret?: string;

  @ValidateIf((o: CreateChannelInput) => isEmail(o) || o.to !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NOTIFICATION_LIMITS.recipientsMax)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(NOTIFICATION_LIMITS.addressMax, { each: true })
  @IsEmail({ require_tld: false }, { each: true, message: 'each address in to must be an e-mail address' })
  to?: string[];

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NotificationEvents.length)
  @ArrayUnique()
  @IsIn(NotificationEvents, { each: true })
  events!: string[];
}

export class ChannelRefInput {
  @IsUUID()
  id!: string;
}

export class DeliveriesQueryInput extends ChannelRefInput {
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value))
  @IsIn(Array.from({ length: 200 }, (_, i) => i + 1), { message: 'limit must be an integer from 1 to 200' })
  limit?: number;
}

/** Validates a create request; the fields of the other kind are refused (a webhook has no `to`, an e-mail channel no `url` or `secret`). */
export async function createChannelInput(payload: unknown): Promise<CreateChannelInput> {
  refuseIllFormed(payload);
  const input = await validatePayload(CreateChannelInput, payload);
  const foreign = input.kind === 'webhook' ? ['to'] : ['url', 'secret'];
  const given = foreign.filter((field) => (input as unknown as Record<string, unknown>)[field] !== undefined);
  if (given.length > 0) {
    throw new RpcError('VALIDATION', 'The request is invalid.', given.map((path) => ({ path, message: `${path} is not a field of a ${input.kind} channel` })));
  }
  return input;
}

export async function channelRef<T extends object>(dto: new () => T, payload: unknown): Promise<T> {
  refuseIllFormed(payload);
  return validatePayload(dto, payload);
}

/**
 * Strings that are not well-formed Unicode, hold a NUL or are far too long are refused
 * before any validator runs (validator.js throws on a lone surrogate, which would be a 500).
 */
function refuseIllFormed(value: unknown, path = '', depth = 0): void {
  if (depth > 8) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path, message: `${path} is nested too deeply` }]);
  if (typeof value === 'string') {
    const problem = value.length > MAX_TEXT ? `is longer than ${MAX_TEXT} characters` : !value.isWellFormed() ? 'is not well-formed Unicode' : value.includes('\u0000') ? 'contains NUL (U+0000)' : undefined;
    if (problem) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path, message: `${path || 'the value'} ${problem}` }]);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > 1000) throw new RpcError('VALIDATION', 'The request is invalid.', [{ path, message: `${path} has too many items` }]);
    value.forEach((item, i) => refuseIllFormed(item, path ? `${path}.${i}` : String(i), depth + 1));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      refuseIllFormed(key, path, depth + 1);
      refuseIllFormed(item, path ? `${path}.${key}` : key, depth + 1);
    }
  }
}

declare global {
  // ES2024, in Node since 20; the project's TypeScript lib is ES2023.
  interface String {
    isWellFormed(): boolean;
  }
}
