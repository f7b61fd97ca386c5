import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The headers helmet sets with `options`, worked out once. @fastify/helmet builds a helmet
 * middleware (parsing the CSP directives again) on every request, though nothing in the
 * result depends on the request: the gateway sets this precomputed set instead.
 * `removed` lists what helmet takes away (`X-Powered-By`).
 */
export function precomputeSecurityHeaders(options: Readonly<HelmetOptions>): { headers: Record<string, string>; removed: string[] } {
  const headers: Record<string, string> = {};
  const removed: string[] = [];
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      return response;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
      removed.push(name.toLowerCase());
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return { headers, removed };
}

/** The CSP of every API answer: JSON needs nothing from a browser, so nothing is allowed. */
export const API_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/** The Swagger UI's page and assets (`/api/docs*`): the inline styles and scripts it needs. */
export const DOCS_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  frameAncestors: ["'none'"],
};

/** Whether `url` (path and query) is the documentation page or one of its assets. */
export function isDocsUrl(url: string): boolean {
  return url.startsWith('/api/docs') && (url.length === 9 || url[9] === '/' || url[9] === '?');
}
