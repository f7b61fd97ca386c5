import {
  RpcErrorCodes,
  type EventEnvelope,
  type RpcErrorBody,
  type RpcReply,
} from '@flotilla/contracts';

/** Message headers this library reads and writes. */
export const AmqpHeaders = {
  /** The correlation id of the work that sent the message (logs, tracing). */
  CorrelationId: 'x-correlation-id',
  /** When the caller of an RPC stops waiting for the reply (ms since the epoch); the server abandons the request then. */
  Deadline: 'x-deadline',
  /** How many times an event has been scheduled for retry. */
  RetryCount: 'x-retry-count',
  /** Why the previous attempt at an event failed. */
  LastError: 'x-last-error',
  /** Why an event was dead-lettered (last attempt's error). */
  Error: 'x-error',
  /** When an event was dead-lettered (ISO 8601). */
  FailedAt: 'x-failed-at',
  /** The routing key the event was first delivered with (it changes once it passes the retry queue). */
  OriginalRoutingKey: 'x-original-routing-key',
  /** The internal caller token of an RPC request (see InternalCaller): who calls, signed by a service. */
  CallerToken: 'x-caller-token',
  /** An event's HMAC signature (see InternalCaller), kept across retries, dead-lettering and replays. */
  Signature: 'x-signature',
  /** The service that signed an event. */
  Signer: 'x-signer',
} as const;

/** RabbitMQ's pseudo-queue for direct reply-to: replies without a reply queue per caller. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * The body of an RPC request on the wire. Who calls is not in it: the caller travels in
 * the signed token of header `x-caller-token`; an `actor` written in the body is ignored.
 */
export interface RpcRequestMessage {
  pattern: string;
  payload: unknown;
}

const MAX_PATTERN_LENGTH = 200;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a request body; a string result says what is wrong with it. */
export function decodeRpcRequest(content: Buffer): RpcRequestMessage | string {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return 'The request body is not valid JSON.';
  }
  if (!isObject(body)) return 'The request body must be a JSON object.';
  if (typeof body.pattern !== 'string' || body.pattern.length === 0 || body.pattern.length > MAX_PATTERN_LENGTH) {
    return 'The request has no valid pattern.';
  }
  return { pattern: body.pattern, payload: body.payload };
}

function isErrorBody(value: unknown): value is RpcErrorBody {
  return (
    isObject(value) &&
    typeof value.code === 'string' &&
    (RpcErrorCodes as readonly string[]).includes(value.code) &&
    typeof value.message === 'string' &&
    (value.errors === undefined ||
      (Array.isArray(value.errors) &&
        value.errors.every((e) => isObject(e) && typeof e.path === 'string' && typeof e.message === 'string')))
  );
}

/** Parses a reply body; anything that is not a well-formed {@link RpcReply} becomes an INTERNAL error. */
export function decodeRpcReply(content: Buffer): RpcReply {
  const malformed = (message: string): RpcReply => ({ ok: false, error: { code: 'INTERNAL', message } });
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return malformed('The service sent a reply that is not JSON.');
  }
  if (isObject(body) && body.ok === true) return { ok: true, data: body.data };
  if (isObject(body) && body.ok === false && isErrorBody(body.error)) return { ok: false, error: body.error };
  return malformed('The service sent a malformed reply.');
}

/** Parses an event body; `undefined` when it is not an {@link EventEnvelope}. */
export function decodeEnvelope(content: Buffer): EventEnvelope | undefined {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  if (
    isObject(body) &&
    typeof body.id === 'string' &&
    typeof body.type === 'string' &&
    typeof body.occurredAt === 'string' &&
    typeof body.source === 'string' &&
    typeof body.correlationId === 'string' &&
    'data' in body
  ) {
    return body as unknown as EventEnvelope;
  }
  return undefined;
}

/** An error's message for a header or a log line, cut to a sane length. */
export function errorMessage(error: unknown, max = 1000): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
