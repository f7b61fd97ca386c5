import { Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, TokenVerifier } from '@flotilla/auth';
import type { RequestLogService } from '../request-log/request-log.service.js';

/** Streams open now: a stopping gateway ends them, so they do not hold it past its grace period. */
const open = new Set<() => void>();

/**
 * How often an open stream verifies its token again. A revoked token's stream closes
 * within this plus the revocation check's own delay (a few seconds); an expired one at its exp.
 */
const TOKEN_CHECK_MS = 1000;

/** The app's token verifier, for the streams' checks (set by {@link EventStreamsShutdown} when the app starts). */
let verifier: TokenVerifier | undefined;

/** Why a stream was closed by the gateway, sent as its last event (`closed`). */
type CloseReason = 'token-expired' | 'token-revoked';

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
  /** Aborted when the stream ends (the client went away, its token ended, the gateway stops): for waits. */
  readonly signal: AbortSignal;
  end(): void;
}

/**
 * Takes the reply over from Fastify and opens a `text/event-stream`, keeping the
 * headers already set (request id, security headers). A hijacked reply skips Fastify's
 * onResponse hook, so the request log records the stream as it opens.
 *
 * The stream lives no longer than the bearer token it was opened with: it closes at the
 * token's `exp`, and when the token stops verifying (revoked, user deleted or disabled),
 * checked every second; its last event is then `closed` with the reason.
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
  const ended = new AbortController();
  let stopWatching = (): void => undefined;
  const end = (): void => {
    closed = true;
    ended.abort();
    open.delete(end);
    stopWatching();
    if (!raw.writableEnded) raw.end();
  };
  open.add(end);
  request.raw.on('close', end);
  const token = bearerToken(request.headers.authorization);
  if (token && verifier) {
    stopWatching = watchToken(token, verifier, (reason) => {
      if (closed) return;
      raw.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
      end();
    });
  }
  return {
    send: (event, data, id) => void (closed || raw.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`)),
    keepAlive: () => void (closed || raw.write(': keep-alive\n\n')),
    get closed() {
      return closed;
    },
    signal: ended.signal,
    end,
  };
}

/**
 * Calls `close` at the token's expiry, or when it no longer verifies (checked every
 * {@link TOKEN_CHECK_MS}); a check that cannot be made (a store down: 503) keeps the
 * stream. Answers the function that stops watching.
 */
function watchToken(token: string, tokens: TokenVerifier, close: (reason: CloseReason) => void): () => void {
  const expiresAt = tokens.expiresAt(token) ?? expiryOf(token);
  const expiry = setTimeout(() => close('token-expired'), Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1));
  const reason = (): CloseReason => (Date.now() >= expiresAt ? 'token-expired' : 'token-revoked');
  const check = setInterval(() => {
    let verdict;
    try {
      verdict = tokens.verifyNow(token);
    } catch {
      return;
    }
    if (verdict === null) close(reason());
    else if (verdict instanceof Promise) verdict.then((user) => user ?? close(reason()), () => undefined);
  }, TOKEN_CHECK_MS);
  expiry.unref();
  check.unref();
  return () => {
    clearTimeout(expiry);
    clearInterval(check);
  };
}

/** The `exp` (ms) of a token verified before (so its claims can be read as they are); now when it has none. */
function expiryOf(token: string): number {
  try {
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : Date.now();
  } catch {
    return Date.now();
  }
}

/**
 * Ends the open event streams when the gateway stops, before its HTTP server closes; and
 * gives the streams the app's token verifier, so that each closes with its token.
 */
@Injectable()
export class EventStreamsShutdown implements BeforeApplicationShutdown {
  constructor(@Optional() tokens?: TokenVerifier) {
    verifier = tokens;
  }

  beforeApplicationShutdown(): void {
    endEventStreams();
  }
}
