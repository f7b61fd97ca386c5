import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiSecurity } from '@nestjs/swagger';
import { ApiProblems, type ProblemStatus } from './problems.js';

/** The security schemes of the document (see document.ts). */
export const USER_SCHEME = 'bearer';
export const ADMIN_SCHEME = 'adminBearer';

export interface EndpointSpec {
  /** Unique, stable: the generated client's method name. */
  id: string;
  summary: string;
  description: string;
  /** public: no token; user: any signed-in user; admin: an administrator's token (403 for others). */
  access: 'public' | 'user' | 'admin';
  /** Takes a JSON body: it can be refused as invalid (400), too large (413) or of another type (415). */
  body?: boolean;
  /** Asks another service (RPC) or bounds its own queries: it can time out (504). */
  slow?: boolean;
  /** The statuses particular to the operation (404, 409, 422...), beyond those every operation shares. */
  problems?: ProblemStatus[];
  /** What its other 429 means: a quota that is full (no Retry-After: waiting does not help). */
  quota429?: string;
}

/**
 * Every request can meet these: an ill-formed query or path string (400, checked before any
 * route), the per-IP limit (429), a request line or headers too large for Node (431), a bug
 * (500) and Postgres or Redis being down (503).
 */
const EVERY_OPERATION: ProblemStatus[] = [400, 429, 431, 500, 503];

/** The statuses `spec` can answer with a problem document, in order. */
export function problemStatusesOf(spec: EndpointSpec): ProblemStatus[] {
  const all = new Set<ProblemStatus>([...EVERY_OPERATION, ...(spec.problems ?? [])]);
  if (spec.access !== 'public') all.add(401);
  if (spec.access === 'admin') all.add(403);
  if (spec.body) [413, 415].forEach((s) => all.add(s as ProblemStatus));
  if (spec.slow) all.add(504);
  return [...all].sort((a, b) => a - b);
}

/**
 * One operation of the document: its id, summary, description, who may call it (the
 * security requirement; `security: []` for public routes) and every error it can answer.
 */
export function Endpoint(spec: EndpointSpec): MethodDecorator {
  const security =
    spec.access === 'public' ? [ApiOperation({ summary: spec.summary, security: [] })] : [ApiSecurity(spec.access === 'admin' ? ADMIN_SCHEME : USER_SCHEME)];
  return applyDecorators(
    ApiOperation({ operationId: spec.id, summary: spec.summary, description: spec.description }),
    ...security,
    ApiProblems(problemStatusesOf(spec), spec.quota429),
  );
}
