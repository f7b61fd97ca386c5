import type { components } from './generated/schema.js';

/** The RFC 9457 problem+json body of every error answer, as the document describes it. */
export type Problem = components['schemas']['Problem'];
/** One entry of `Problem.errors`: a field, or a refused limit, and what is wrong with it. */
export type ProblemFieldError = NonNullable<Problem['errors']>[number];

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * An answer of 400 or above. `problem` is its problem+json body when it sent one (any
 * JSON object is taken: a proxy's error page is `text` instead); `text` is a short piece
 * of any other body.
 */
export class FlotillaApiError extends Error {
  override readonly name = 'FlotillaApiError';

  constructor(
    readonly method: string,
    /** The request's path, with its query, e.g. `/api/v1/datasets/…`. */
    readonly path: string,
    readonly status: number,
    readonly headers: Headers,
    readonly problem: Problem | undefined,
    readonly text: string | undefined,
  ) {
    super(describe(method, path, status, problem, text));
  }

  /** The answer's Retry-After (429, 503), in milliseconds. */
  get retryAfterMs(): number | undefined {
    return retryAfterMs(this.headers.get('retry-after'));
  }

  /** The field-level errors of a 400 or 422, empty when there are none. */
  get fieldErrors(): ProblemFieldError[] {
    return this.problem?.errors ?? [];
  }

  /** Reads a refused answer (its body once) into an error. */
  static async from(method: string, url: string, response: Response): Promise<FlotillaApiError> {
    const body = await response.text().catch(() => '');
    const type = response.headers.get('content-type') ?? '';
    let problem: Problem | undefined;
    if (/json/i.test(type) && body) {
      try {
        const parsed = JSON.parse(body) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed as Problem;
      } catch {
        // Not JSON after all: kept as text below.
      }
    }
    const short = problem ? undefined : body.replace(/\s+/g, ' ').trim().slice(0, 300) || undefined;
    const { pathname, search } = new URL(url, 'http://relative.invalid');
    return new FlotillaApiError(method, pathname + search, response.status, response.headers, problem, short);
  }
}

function describe(method: string, path: string, status: number, problem: Problem | undefined, text: string | undefined): string {
  const head = `${method} ${path} answered ${status}`;
  if (!problem) return text ? `${head}: ${text}` : head;
  const lines = [`${head}: ${[problem.title, problem.detail].filter(Boolean).join(' — ') || 'no details'}`];
  for (const e of problem.errors ?? []) lines.push(`  - ${e.path ? `${e.path}: ` : ''}${e.message}`);
  return lines.join('\n');
}
