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

/**
 * Tells whether an error means a server the request needed (Postgres, Redis, the broker)
 * could not be reached; such an error answers 503, not 500. The rule lives with the
 * drivers' knowledge (messaging's `isDependencyUnavailable`), which this library cannot import.
 */
export type DependencyErrorRule = (error: unknown) => boolean;

/**
 * Most invalid fields a problem names. A small body of many bad items (a list of 5000 numbers
 * where objects are due) would otherwise get an answer many times its size; the detail says
 * how many there were.
 */
export const MAX_PROBLEM_ERRORS = 100;

/** Seconds a client is asked to wait (`Retry-After`) before retrying a 503 that says nothing more precise. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const DEPENDENCY_DOWN = 'A service this request needs is not reachable right now; try again shortly.';

/**
 * Turns anything thrown into a problem document: a dependency that is down (by `isUnavailable`)
 * becomes 503, unknown errors a bare 500.
 */
export function toProblem(exception: unknown, instance: string, isUnavailable?: DependencyErrorRule): ProblemDocument {
  let status = 500;
  let detail = 'An unexpected error occurred.';
  let errors: RpcFieldError[] | undefined;
  if (!(exception instanceof HttpException) && !(exception instanceof RpcError) && isUnavailable?.(exception)) {
    status = 503;
    detail = DEPENDENCY_DOWN;
  } else if (exception instanceof HttpException) {
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
  if (errors && errors.length > MAX_PROBLEM_ERRORS) {
    detail = `${detail} (The first ${MAX_PROBLEM_ERRORS} of ${errors.length} problems are listed.)`;
    errors = errors.slice(0, MAX_PROBLEM_ERRORS);
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

/**
 * Renders every error that reaches the edge as `application/problem+json`; given the rule,
 * an error of a dependency that is down answers 503 with `Retry-After`.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  constructor(private readonly isUnavailable?: DependencyErrorRule) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ url: string }>();
    const reply = http.getResponse<ReplyLike>();
    const problem = toProblem(exception, request.url.split('?')[0] ?? request.url, this.isUnavailable);
    // A dependency that is down or slow is an expected condition, not a bug: no stack.
    if (exception instanceof RpcError && exception.code !== 'INTERNAL') this.logger.warn(`${problem.status}: ${exception.message}`);
    else if (problem.status === 503) this.logger.warn(`503: ${exception instanceof Error ? exception.message : String(exception)}`);
    else if (problem.status >= 500) this.logger.error(exception instanceof Error ? exception : String(exception));
    sendProblem(reply, problem, exception);
  }
}

/**
 * Writes a problem document, with `Retry-After` when the error carries one; every 503
 * has one, so a client knows the refusal is temporary and when to come back.
 */
export function sendProblem(reply: ReplyLike, problem: ProblemDocument, exception?: unknown): void {
  if (reply.sent) return;
  const carried = (exception as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  const retryAfter = typeof carried === 'number' ? carried : problem.status === 503 ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined;
  if (typeof retryAfter === 'number') reply.header('Retry-After', String(retryAfter));
  reply.status(problem.status).header('Content-Type', 'application/problem+json').send(problem);
}
