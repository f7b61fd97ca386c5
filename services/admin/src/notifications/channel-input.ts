import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { CreateNotificationChannelDto, RpcError } from '@flotilla/contracts';
import { validatePayload } from '@flotilla/messaging';

/** The longest string any field takes, far above each field's own bound. */
const MAX_TEXT = 16_384;

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
export async function createChannelInput(payload: unknown): Promise<CreateNotificationChannelDto> {
  refuseIllFormed(payload);
  const input = await validatePayload(CreateNotificationChannelDto, payload);
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
