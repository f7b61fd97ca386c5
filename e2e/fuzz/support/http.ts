/** A raw HTTP exchange for hostile requests: any method, body and content type; streams cut after their headers. */
import { request as httpRequest } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, as sent (already encoded). */
  url: string;
  token?: string;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  ms: number;
}

/** Bodies above this are past every body limit of the API: the server answers before reading them. */
const OVERSIZED_BODY = 1024 * 1024;

/**
 * Sends one request; server-sent event streams are closed once their headers arrive.
 *
 * A body past the limit is answered (413, or 414 for its URL) before the server has read it,
 * and the connection is then closed with the rest unread. fetch then often fails while still
 * writing ("fetch failed", EPIPE or a reset) although the answer was sent. Such a request is
 * sent again with node:http, which keeps an answer that arrives while it writes, up to three
 * times; only a request that never gets an answer is reported.
 */
export async function send(baseUrl: string, request: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
  try {
    return await sendWithFetch(baseUrl, request, timeoutMs);
  } catch (error) {
    if ((request.body?.length ?? 0) <= OVERSIZED_BODY || request.method === 'GET' || request.method === 'HEAD') throw error;
    const headers: Record<string, string> = { ...request.headers };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    for (let attempt = 1; ; attempt++) {
      try {
        return await sendBytes(baseUrl, { method: request.method, path: request.url, headers, body: request.body }, timeoutMs);
      } catch (again) {
        if (attempt === 3) throw again;
      }
    }
  }
}

async function sendWithFetch(baseUrl: string, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${request.url}`, {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body,
      signal: controller.signal,
    });
    let text = '';
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await res.body?.cancel().catch(() => undefined);
    } else {
      text = await res.text();
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** What is wrong with an answer by the API's rules (problem+json errors, no 5xx, X-Request-Id), or undefined. */
export function contractViolation(res: RawResponse, { allow5xx = [] as number[] } = {}): string | undefined {
  if (!res.headers.get('x-request-id')) return `no X-Request-Id on a ${res.status}`;
  if (res.status >= 500 && !allow5xx.includes(res.status)) return `answered ${res.status}: ${res.text.slice(0, 300)}`;
  if (res.status >= 400) {
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('application/problem+json')) return `${res.status} with content-type "${type}" instead of application/problem+json`;
    const problem = res.json as { status?: unknown; detail?: unknown; title?: unknown } | undefined;
    if (!problem || typeof problem !== 'object') return `${res.status} whose body is not a JSON object: ${res.text.slice(0, 200)}`;
    if (problem.status !== res.status) return `${res.status} whose problem says status ${JSON.stringify(problem.status)}`;
    const message = [problem.detail, problem.title].find((m) => typeof m === 'string' && m.trim() !== '');
    if (!message) return `${res.status} whose problem has neither detail nor title`;
  }
  return undefined;
}

/** Shortens a value for a report line. */
export function brief(value: unknown, max = 240): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return 'undefined';
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** A request sent byte for byte: any method (a body on GET too), a path as written, a body of raw bytes. */
export interface ByteRequest {
  method: string;
  /** Path and query exactly as they go on the request line. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Sends `request` with node:http, which (unlike fetch) sends a body with GET, leaves the
 * path as written and takes bytes that are not UTF-8. Event streams are cut after their headers.
 */
export function sendBytes(baseUrl: string, request: ByteRequest, timeoutMs = 20_000): Promise<RawResponse> {
  const started = performance.now();
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${request.path}`, { method: request.method, headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, timeout: timeoutMs }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      const done = (text: string): void => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers, text, json, ms: performance.now() - started });
      };
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.destroy();
        done('');
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
      // The connection closed by the server after an early answer can end the response without 'end'.
      res.on('close', () => done(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // A write cut off by an early answer (a body past the limit) fails here while the answer is
    // still being read: give it a moment to resolve first; a request with no answer still rejects.
    req.on('error', (error) => setTimeout(() => reject(error), 1000));
    req.end(body);
  });
}
