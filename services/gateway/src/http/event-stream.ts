import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestLogService } from '../request-log/request-log.service.js';

/** Streams open now: a stopping gateway ends them, so they do not hold it past its grace period. */
const open = new Set<() => void>();

/** Ends every open stream (on shutdown); their loops see `closed` and return. */
export function endEventStreams(): void {
  for (const end of [...open]) end();
}

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
  const end = (): void => {
    closed = true;
    open.delete(end);
    if (!raw.writableEnded) raw.end();
  };
  open.add(end);
  request.raw.on('close', end);
  return {
    send: (event, data, id) => void (closed || raw.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`)),
    keepAlive: () => void (closed || raw.write(': keep-alive\n\n')),
    get closed() {
      return closed;
    },
    end,
  };
}

/** Ends the open event streams when the gateway stops, before its HTTP server closes. */
@Injectable()
export class EventStreamsShutdown implements BeforeApplicationShutdown {
  beforeApplicationShutdown(): void {
    endEventStreams();
  }
}
