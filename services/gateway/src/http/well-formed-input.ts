import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare global {
  // ES2024, in Node since 20; the project's TypeScript lib is ES2023.
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/** Bounds of the strings the edge lets in; every field's own validator is stricter. */
export interface InputLimits {
  /** Longest string value of the body, the query or a path parameter (UTF-16 code units). */
  maxString: number;
  /** Longest object key of the body or name of a query parameter. */
  maxKey: number;
  /** Longest value of a header the gateway reads. */
  maxHeader: number;
}

/** Longer than any field the API takes (the longest declared is 2000), far below the body limit. */
export const INPUT_LIMITS: Readonly<InputLimits> = { maxString: 16_384, maxKey: 256, maxHeader: 8192 };

/** The headers whose values the gateway (or what it calls) reads. */
const READ_HEADERS = ['authorization', 'user-agent', 'if-none-match', 'x-request-id'] as const;

export interface InputProblem {
  /** Where: `email`, `files.0.filename`, `query.cursor`, `params.id`, `headers.user-agent`. */
  path: string;
  message: string;
}

/** What is wrong with `text`, or undefined: too long, not well-formed UTF-16 (a lone surrogate), a NUL. */
export function textProblem(text: string, max: number): string | undefined {
  if (text.length > max) return `is longer than ${max} characters`;
  if (!text.isWellFormed()) return 'is not well-formed Unicode';
  if (text.includes('\u0000')) return 'contains NUL (U+0000)';
  return undefined;
}

const join = (prefix: string, key: string | number): string => (prefix === '' ? String(key) : `${prefix}.${key}`);

/**
 * Arrays and plain objects: what JSON, query and path parsing make (the router's and the
 * query parser's objects have a prototype that itself has none). Anything else (a stream
 * a proxied route passes on, a Buffer) is not walked — it may be huge or hold cycles.
 */
function isWalkable(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * The first string in `value` (values and keys, at any depth) that {@link textProblem}
 * refuses, with its path under `prefix`. Iterative, so no nesting overflows the stack;
 * a flat object (a vote) is checked without allocating anything.
 */
export function findIllFormed(value: unknown, prefix = '', limits: Readonly<InputLimits> = INPUT_LIMITS): InputProblem | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value, limits.maxString);
    return message ? { path: prefix, message } : undefined;
  }
  if (!isWalkable(value)) return undefined;
  let pending: [object, string][] | undefined;
  let current: object = value;
  let at = prefix;
  for (;;) {
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const item: unknown = current[i];
        if (typeof item === 'string') {
          const message = textProblem(item, limits.maxString);
          if (message) return { path: join(at, i), message };
        } else if (isWalkable(item)) (pending ??= []).push([item, join(at, i)]);
      }
    } else {
      for (const key in current) {
        const keyMessage = textProblem(key, limits.maxKey);
        // A key that cannot be written back as it is is named with U+FFFD in its ill-formed place.
        if (keyMessage) return { path: join(at, key.toWellFormed()), message: `key ${keyMessage}` };
        const item: unknown = (current as Record<string, unknown>)[key];
        if (typeof item === 'string') {
          const message = textProblem(item, limits.maxString);
          if (message) return { path: join(at, key), message };
        } else if (isWalkable(item)) (pending ??= []).push([item, join(at, key)]);
      }
    }
    const next = pending?.pop();
    if (!next) return undefined;
    [current, at] = next;
  }
}

/** The first ill-formed string a request brings: in a header the gateway reads, a path parameter, the query or the body (the query's encoding: {@link malformedQuery}). */
export function illFormedInput(request: FastifyRequest, limits: Readonly<InputLimits> = INPUT_LIMITS): InputProblem | undefined {
  // Node decodes header values as Latin-1 and its parser refuses NUL in them: only the length can be wrong.
  for (const name of READ_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string' && value.length > limits.maxHeader) return { path: `headers.${name}`, message: `is longer than ${limits.maxHeader} characters` };
  }
  return findIllFormed(request.params, 'params', limits) ?? findIllFormed(request.query, 'query', limits) ?? findIllFormed(request.body, '', limits);
}

/**
 * A query string whose percent-encoding is malformed (`%`, `%G1`, `%E0%A4%A`) or encodes
 * no UTF-8 (a lone surrogate's bytes, `%ED%A0%80`): the query parser would pass it on
 * undecoded. The path's own encoding the router checks (400).
 */
export function malformedQuery(url: string): InputProblem | undefined {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return undefined;
  try {
    decodeURIComponent(url.slice(start + 1));
    return undefined;
  } catch {
    return { path: 'query', message: 'is not valid percent-encoded UTF-8' };
  }
}

/**
 * Refuses, with 400 problem+json naming where, a request carrying a string that is not
 * well-formed Unicode, holds a NUL or is over-long — once, at the edge, after the body is
 * parsed and before any validator (validator.js throws on a lone surrogate) or handler
 * sees it. Global hooks (`onRequest` for the query's encoding, `preValidation` for the
 * rest): they run for every route, also those served outside Nest (votes, validation status).
 */
export function refuseIllFormedInput(fastify: FastifyInstance, limits: Readonly<InputLimits> = INPUT_LIMITS): void {
  // The query's encoding is checked on the URL as it came, before any step rewrites it.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const problem = malformedQuery(request.url);
    done(problem ? badRequest(problem) : undefined);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    const problem = illFormedInput(request, limits);
    done(problem ? badRequest(problem) : undefined);
  });
}

function badRequest(problem: InputProblem): BadRequestException {
  return new BadRequestException({ message: `${problem.path || 'The body'} ${problem.message}.`, errors: [problem] });
}
