import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
import { MAX_PROBLEM_ERRORS } from '@flotilla/observability';

/** The statuses an operation of the API can answer with a problem document. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 422 | 429 | 431 | 500 | 503 | 504;

/** Name of the problem document's schema in `components.schemas`. */
export const PROBLEM_SCHEMA = 'Problem';

/**
 * RFC 9457 problem document, as `toProblem` (libs/observability) writes every error: the
 * gateway's own, Fastify's (bad JSON, body too large, wrong content type) and the services'
 * RPC errors. `errors` names each invalid field of a 400 or 422.
 */
export const PROBLEM_SCHEMA_OBJECT = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', maxLength: 2048, description: 'Always `about:blank`: the status says what kind of problem it is', example: 'about:blank' },
    title: { type: 'string', maxLength: 100, description: "The status's reason phrase", example: 'Bad Request' },
    status: { type: 'integer', minimum: 400, maximum: 599, example: 400 },
    // The longest is the router's `Cannot GET <url>`: a URL fits in Node's 16 KiB of request line and headers.
    detail: { type: 'string', maxLength: 32_768, description: 'What went wrong, for a person', example: 'The request is invalid.' },
    instance: { type: 'string', maxLength: 16_384, description: 'The path of the request (without its query)', example: '/api/v1/datasets' },
    errors: {
      type: 'array',
      description: 'Each invalid field (400), or each limit refused (422), by where it is: the first 100',
      maxItems: MAX_PROBLEM_ERRORS,
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', maxLength: 1024, example: 'files[0].name' },
          message: { type: 'string', maxLength: 2048, example: 'name must be shorter than or equal to 255 characters' },
        },
      },
    },
  },
  example: { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'The request is invalid.', instance: '/api/v1/datasets', errors: [{ path: 'limit', message: 'limit must not be greater than 200' }] },
} as const;

const RETRY_AFTER = {
  description: 'Seconds to wait before trying again',
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400, example: 5 },
};

/** What each status means wherever it is answered; an operation adds its own cases in its description. */
const MEANING: Record<ProblemStatus, string> = {
  400: 'The request is invalid (bad JSON, unknown or invalid fields, ill-formed strings): each problem in `errors`',
  401: 'No bearer token, or one that is invalid, expired or revoked',
  403: 'The caller lacks the role this operation needs',
  404: "No such resource, or one of another team's",
  409: 'The resource is not in a state that allows this (a conflict)',
  413: 'The body is larger than the gateway accepts (BODY_LIMIT_BYTES)',
  414: 'A path parameter is longer than the router takes (100 characters)',
  415: 'The body is not `application/json`',
  422: 'Well-formed, but refused by a rule of the platform (a quota, a limit, an expired upload)',
  431: 'The request line or headers are too large (refused by Node before any route)',
  429: 'Too many requests from this address or user in the window: retry after `Retry-After` seconds',
  500: 'An unexpected error; nothing to retry by hand',
  503: 'A service or server this request needs is not reachable: retry after `Retry-After` seconds',
  504: 'A service or database did not answer in time',
};

/** `RateLimit` (IETF httpapi draft) on every 429: nothing left, back after `t` seconds (rate-limit-headers.ts). */
const RATE_LIMIT = {
  description: 'The limit that refused the request: `"<policy>";r=0;t=<seconds until it resets>`',
  schema: { type: 'string', maxLength: 100, pattern: '^"[a-z-]+";r=0;t=\\d+$', example: '"gateway";r=0;t=30' },
};

/**
 * The response object of a problem `status`, with `Retry-After` where the gateway sends one
 * (429, 503). A rate limit's 429 always has `Retry-After` and `RateLimit`; `quota` is what an
 * operation's other 429 means (a count that is full, not a window), which has neither.
 */
export function problemResponse(status: ProblemStatus, quota?: string) {
  const required = quota === undefined;
  // A 503 has Retry-After unless Fastify answers it itself while the service closes.
  const headers = status === 429 ? { 'Retry-After': { ...RETRY_AFTER, required }, RateLimit: { ...RATE_LIMIT, required } } : status === 503 ? { 'Retry-After': RETRY_AFTER } : undefined;
  return {
    description: status === 429 && quota ? `${MEANING[429]}; or ${quota}, without either header` : MEANING[status],
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA}` } } },
  };
}

/** The problem+json responses for `statuses` (`quota`: see problemResponse). */
export function ApiProblems(statuses: ProblemStatus[], quota?: string): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status, quota) } as ApiResponseOptions)));
}
