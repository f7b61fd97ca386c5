import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, type ValidationError } from '@nestjs/common';
import { RpcError, type RpcFieldError } from '@flotilla/contracts';
import { STATUS_CODES } from 'node:http';

/** An RFC 9457 problem document. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: RpcFieldError[];
  /** Readiness failures: each dependency that is down, with its reason. */
  error?: Record<string, unknown>;
  details?: unknown;
}

/** Flattens class-validator errors into `{path, message}` pairs. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): RpcFieldError[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flattenValidationErrors(e.children ?? [], path)];
  });
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Turns anything thrown into a problem document; unknown errors become a bare 500. */
export function toProblem(exception: unknown, instance: string): ProblemDocument {
  let status = 500;
  let detail = 'An unexpected error occurred.';
  let errors: RpcFieldError[] | undefined;
  if (exception instanceof HttpException) {
    status = exception.getStatus();
    const body = exception.getResponse();
    if (typeof body === 'string') detail = body;
    else if (body && typeof body === 'object') {
      const b = body as { message?: unknown; errors?: RpcFieldError[] };
      if (Array.isArray(b.message)) {
        detail = 'The request is invalid.';
        errors = b.message.map((m) => ({ path: '', message: String(m) }));
      } else if (typeof b.message === 'string') detail = b.message;
      if (Array.isArray(b.errors)) errors = b.errors;
      // A failed readiness check keeps naming the dependencies that are down.
      const health = body as { status?: unknown; error?: Record<string, unknown>; details?: unknown };
      if (health.status === 'error' && health.error && typeof health.error === 'object') {
        return {
          type: 'about:blank',
          title: STATUS_CODES[status] ?? 'Error',
          status,
          detail: `Not ready: ${Object.keys(health.error).join(', ')} down.`,
          instance,
          error: health.error,
          details: health.details,
        } as ProblemDocument;
      }
    }
  } else if (exception instanceof RpcError) {
    status = exception.httpStatus;
    detail = status >= 500 && exception.code === 'INTERNAL' ? detail : exception.message;
    errors = exception.errors;
  } else if (exception && typeof exception === 'object') {
    // Errors raised by Fastify itself (bad JSON, body too large, bad content type).
    const e = exception as FastifyLikeError;
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      status = e.statusCode;
      detail = e.message ?? detail;
    }
  }
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: unknown): unknown;
  sent?: boolean;
}

/** Renders every error that reaches the edge as `application/problem+json`. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ url: string }>();
    const reply = http.getResponse<ReplyLike>();
    const problem = toProblem(exception, request.url.split('?')[0] ?? request.url);
    // A dependency that is down or slow is an expected condition, not a bug: no stack.
    if (exception instanceof RpcError && exception.code !== 'INTERNAL') this.logger.warn(`${problem.status}: ${exception.message}`);
    else if (problem.status >= 500) this.logger.error(exception instanceof Error ? exception : String(exception));
    sendProblem(reply, problem, exception);
  }
}

/** Writes a problem document, with `Retry-After` when the error carries one. */
export function sendProblem(reply: ReplyLike, problem: ProblemDocument, exception?: unknown): void {
  if (reply.sent) return;
  const retryAfter = (exception as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('Retry-After', String(retryAfter));
  reply.status(problem.status).header('Content-Type', 'application/problem+json').send(problem);
}
