import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { redactUrlsIn } from '@flotilla/config';
import { currentContext } from './context.js';
import { activeTraceIds } from './tracing/propagation.js';

/** Paths whose values never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  'refreshToken',
  '*.refreshToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'secret',
  '*.secret',
];

/**
 * JSON lines to stdout (or `destination`) with the service name, the current correlation
 * id and, while a span is active, its `traceId` and `spanId`. Secrets are cut by field name (`REDACT`) and, as a last safeguard on every line as
 * written, the userinfo of any URL (`scheme://user:pass@`) wherever it appears — a driver's
 * error message or stack that quotes its connection string included.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Pino {
  const options = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    hooks: { streamWrite: redactUrlsIn },
    mixin() {
      const ctx = currentContext();
      // With tracing on, the line names the span it was written in (traceId, spanId).
      const ids = activeTraceIds();
      return ctx ? { correlationId: ctx.correlationId, ...(ctx.userId ? { userId: ctx.userId } : {}), ...ids } : { ...ids };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes Nest's `Logger` calls into pino so every line is JSON with a correlation id. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, params: unknown[]): void {
    const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const extra: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.pino[level]({ ...extra, err: message }, message.message);
      return;
    }
    const stack = level === 'error' && typeof params[0] === 'string' ? params[0] : undefined;
    if (stack) extra.stack = stack;
    if (typeof message === 'object' && message !== null) this.pino[level]({ ...extra, ...message });
    else this.pino[level](extra, String(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}

/**
 * A warning for a condition that repeats while it lasts (a dependency that is down, say):
 * logged at most once per `intervalMs`, so an outage is a line every few seconds, not one
 * per request.
 */
export function throttledWarning(logger: Pick<LoggerService, 'warn'>, intervalMs = 10_000): (message: string) => void {
  let last = -Infinity;
  return (message) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    logger.warn(message);
  };
}
