import { BadRequestException, type INestApplication, Logger, ValidationPipe, type Type, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { acceptCorrelationId, runWithContext } from './context.js';
import { HealthRegistry } from './health.js';
import { createLogger, PinoNestLogger } from './logger.js';
import { MetricsService } from './metrics.js';
import { flattenValidationErrors, ProblemDetailsFilter, sendProblem, toProblem, type DependencyErrorRule } from './problem.js';

export interface HttpServiceOptions {
  /** Service name in logs and metrics. */
  service: string;
  port: number;
  host?: string;
  bodyLimitBytes?: number;
  logLevel?: string;
  /** Time a stopping service has before it is forced out. */
  shutdownGraceMs?: number;
  /**
   * Which peers may tell the client's address in `X-Forwarded-For` (Fastify's
   * `trustProxy`: true, or addresses/CIDRs). Default: nobody, so a client cannot
   * choose its own address (and escape per-IP limits) by sending the header.
   */
  trustProxy?: boolean | string;
  /** Which errors mean a dependency is down (messaging's `isDependencyUnavailable`): they answer 503, not 500. */
  isDependencyUnavailable?: DependencyErrorRule;
  /** Extra set-up (security headers, CORS, docs) before the app listens. */
  configure?: (app: NestFastifyApplication, fastify: FastifyInstance) => Promise<void> | void;
}

/** The validation every HTTP input gets: known fields only, right types, 400 with each problem. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) =>
      new BadRequestException({ message: 'The request is invalid.', errors: flattenValidationErrors(errors) }),
  });
}

/**
 * Creates a service's Fastify app with everything every service shares: JSON logs,
 * a correlation id per request (`X-Request-Id`), HTTP metrics on every route,
 * problem+json errors, validation, graceful shutdown. Resolves once it listens.
 */
export async function startHttpService(module: Type<unknown> | DynamicModule, options: HttpServiceOptions): Promise<NestFastifyApplication> {
  const pino = createLogger(options.service, options.logLevel);
  const adapter = new FastifyAdapter({
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
    // JSON with a `__proto__` key, or a `constructor` key holding `prototype`, is refused
    // (400) by the parser rather than stripped: Fastify's defaults, stated so they stay.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    forceCloseConnections: 'idle',
    // A malformed URL (400) or an over-long path parameter (414) is answered by the router
    // before any hook runs: the answer still carries its X-Request-Id, the security headers
    // of an API answer, and is a problem+json.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('X-Request-Id', acceptCorrelationId(request.headers['x-request-id']));
      for (const [name, value] of Object.entries(edgeErrorHeaders())) void reply.header(name, value);
      sendProblem(reply as unknown as Parameters<typeof sendProblem>[0], toProblem(error, (request.raw.url ?? '').split('?')[0] ?? ''));
    },
    // Requests Node's parser refuses (headers or URL too large: 431, garbage: 400) never
    // reach Fastify; they are answered on the socket, in the same shape.
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(new PinoNestLogger(pino));
  app.enableShutdownHooks();
  installForcedExit(options.shutdownGraceMs ?? 10_000, pino);

  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const metrics = app.get(MetricsService);
  fastify.addHook('onRequest', (request, reply, done) => {
    const correlationId = acceptCorrelationId(request.headers['x-request-id']);
    (request as { correlationId?: string }).correlationId = correlationId;
    void reply.header('X-Request-Id', correlationId);
    runWithContext({ correlationId }, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  // Nested JSON is walked recursively by class-transformer and class-validator: a body
  // thousands of levels deep would overflow the stack (a 500), so it is refused first.
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.body !== null && typeof request.body === 'object' && nestedDeeperThan(request.body, MAX_JSON_DEPTH)) {
      done(Object.assign(new Error(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`), { statusCode: 400 }));
    } else done();
  });

  // Nest routes Fastify's own errors (bad JSON, body too large) through this filter too.
  app.useGlobalFilters(new ProblemDetailsFilter(options.isDependencyUnavailable));
  app.useGlobalPipes(createValidationPipe());
  await options.configure?.(app, fastify);
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  app.get(HealthRegistry).markStarted();
  new Logger('Bootstrap').log(`${options.service} listening on ${await app.getUrl()}`);
  return app;
}

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `max` levels deep (iteratively: no recursion to overflow). */
export function nestedDeeperThan(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(current as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail = status === 431 ? 'The request line or headers are too large.' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status, detail });
  const headers = { 'Content-Type': 'application/problem+json', 'Content-Length': String(Buffer.byteLength(body)), 'X-Request-Id': randomUUID(), ...edgeErrorHeaders(), Connection: 'close' };
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
}

/** The security headers of an error answered before any hook could add them (HSTS in production, as at the edge). */
function edgeErrorHeaders(): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    ...(process.env.NODE_ENV === 'production' ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/**
 * Runs a service's start-up and turns a failure into one clear log line and a non-zero
 * exit (78 for configuration errors, as sysexits' EX_CONFIG), never a stack dump.
 */
export async function runService(service: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    const isConfig = error instanceof Error && error.name === 'ConfigError';
    createLogger(service).fatal({ err: isConfig ? undefined : error }, error instanceof Error ? error.message : String(error));
    process.exit(isConfig ? 78 : 1);
  }
}

/** Nest closes gracefully on SIGTERM; this makes sure a stuck close still ends in time. */
function installForcedExit(graceMs: number, pino: ReturnType<typeof createLogger>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        pino.error({ graceMs }, 'shutdown exceeded the grace period; exiting');
        process.exit(1);
      }, graceMs).unref();
    });
  }
}

export type { INestApplication };
