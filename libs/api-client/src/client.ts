import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './generated/schema.js';
import { FlotillaApiError } from './problem.js';

export interface FlotillaClientOptions {
  /**
   * Where the API is: an origin such as `http://localhost:8080`, with a path prefix if a
   * proxy adds one; `''` in the browser for the page's own origin. The document's paths
   * carry `/api/v1` themselves.
   */
  baseUrl: string;
  /** The bearer token, or a function asked at every request (for a session whose token is refreshed). */
  token?: string | (() => string | undefined);
  /** The fetch to use (tests, proxies); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request (a User-Agent, say). */
  headers?: Record<string, string>;
  /**
   * Whether an answer of 400 or above rejects with a {@link FlotillaApiError} (default true).
   * With false it is left to the caller as openapi-fetch gives it: `{ error, response }`.
   */
  throwOnError?: boolean;
}

/** An openapi-fetch client of the Flotilla API: `GET`, `POST`, … typed by path from the OpenAPI document. */
export type FlotillaClient = Client<paths>;

/**
 * A client of the Flotilla API. Every request gets `Authorization: Bearer <token>` when
 * there is a token; answers of 400 and above reject with a {@link FlotillaApiError}
 * carrying the problem+json body, so `data` is the success body (undefined for a 204 and
 * for a 3xx such as 304, which are answers, not errors). Network failures reject with
 * fetch's own error.
 */
export function createFlotillaClient(options: FlotillaClientOptions): FlotillaClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { accept: 'application/json, application/problem+json', ...options.headers },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { token } = options;
  if (token !== undefined) client.use(bearer(token));
  if (options.throwOnError !== false) client.use(problemErrors);
  return client;
}

function bearer(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === 'function' ? token() : token;
      // A header the caller set for this one request wins (an access token not yet in the session).
      if (value && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${value}`);
      return request;
    },
  };
}

const problemErrors: Middleware = {
  async onResponse({ request, response }) {
    if (response.status >= 400) throw await FlotillaApiError.from(request.method, request.url, response);
    return undefined;
  },
};
