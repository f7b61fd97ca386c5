import 'reflect-metadata';
import { RpcError } from '@flotilla/contracts';
import { flattenValidationErrors } from '@flotilla/observability';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate } from 'class-validator';

/**
 * Turns an RPC payload into an instance of `dto` and validates it like the HTTP
 * edge does (known fields only, unknown ones rejected). Throws
 * `RpcError('VALIDATION')` with one `{path, message}` per problem, which crosses the
 * bus to the caller unchanged.
 */
export async function validatePayload<T extends object>(dto: ClassConstructor<T>, payload: unknown): Promise<T> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new RpcError('VALIDATION', 'The request is invalid.', [{ path: '', message: 'the payload must be an object' }]);
  }
  const instance = plainToInstance(dto, payload);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new RpcError('VALIDATION', 'The request is invalid.', flattenValidationErrors(errors));
  return instance;
}
