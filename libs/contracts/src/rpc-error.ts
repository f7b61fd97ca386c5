import { RPC_ERROR_HTTP_STATUS, type RpcErrorBody, type RpcErrorCode, type RpcFieldError } from './rpc.js';

/**
 * A typed failure that crosses the bus: thrown by a service's RPC handler, carried in
 * the reply, rethrown in the caller and rendered as problem+json at the gateway.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';

  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly errors?: RpcFieldError[],
  ) {
    super(message);
  }

  get httpStatus(): number {
    return RPC_ERROR_HTTP_STATUS[this.code];
  }

  toBody(): RpcErrorBody {
    return { code: this.code, message: this.message, ...(this.errors ? { errors: this.errors } : {}) };
  }

  static fromBody(body: RpcErrorBody): RpcError {
    return new RpcError(body.code, body.message, body.errors);
  }
}
