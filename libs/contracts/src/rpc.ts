/**
 * The RPC contract between the gateway and the services: one durable queue per
 * service, patterns named `<service>.<action>`, typed errors that cross the bus.
 */

/** Services that serve RPC, each on its own queue `<service>.rpc`. */
export type RpcService = 'upload' | 'validator' | 'votes' | 'provisioner' | 'admin';

/** Error codes that cross the bus; the gateway maps each to an HTTP status. */
export const RpcErrorCodes = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNPROCESSABLE',
  'FORBIDDEN',
  /** The request carried no valid internal caller token (missing, foreign, expired): refused before any handler ran. */
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
] as const;
export type RpcErrorCode = (typeof RpcErrorCodes)[number];

export interface RpcFieldError {
  path: string;
  message: string;
}

/** The body of a failed RPC reply. */
export interface RpcErrorBody {
  code: RpcErrorCode;
  message: string;
  errors?: RpcFieldError[];
}

/** A reply on the wire: exactly one of `data` or `error`. */
export type RpcReply<T = unknown> = { ok: true; data: T } | { ok: false; error: RpcErrorBody };

/** HTTP status for each RPC error code, used at the edge. */
export const RPC_ERROR_HTTP_STATUS: Record<RpcErrorCode, number> = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  FORBIDDEN: 403,
  // The platform refused its own internal call (a key mismatch between services, say):
  // 403, never 401, which would make a client drop a session that logging in again cannot fix.
  UNAUTHENTICATED: 403,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

/**
 * The caller on whose behalf an RPC runs; services scope data by it. It travels in the
 * signed internal caller token, never in the message body.
 */
export interface RpcActor {
  userId: string;
  role: 'admin' | 'member';
  teamId: string | null;
}

/** Whether `actor` may reach what belongs to team `teamId`: administrators everything, members their own team's. */
export function mayAccessTeam(actor: Pick<RpcActor, 'role' | 'teamId'>, teamId: string): boolean {
  return actor.role === 'admin' || actor.teamId === teamId;
}
