import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestLogService } from '../request-log/request-log.service.js';

/** A server-sent events response, written straight to the socket. */
export interface EventStream {
  send(event: string, data: unknown, id?: string): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  keepAlive(): void;
  /** True once the client went away. */
  readonly closed: boolean;
  end(): void;
}

/**
 * Takes the reply over from Fastify and opens a `text/event-stream`, keeping the
 * headers already set (request id, security headers). A hijacked reply skips Fastify's
 * onResponse hook, so the request log records the stream as it opens.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, requestLog: RequestLogService): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  requestLog.record(request, reply);
  let closed = false;
  request.raw.on('close', () => (closed = true));
  return {
    send: (event, data, id) => void raw.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`),
    keepAlive: () => void raw.write(': keep-alive\n\n'),
    get closed() {
      return closed;
    },
    end: () => raw.end(),
  };
}
