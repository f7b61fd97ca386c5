/**
 * The API contract as the e2e suites check it: every answer of the gateway's `/api/v1` must
 * be one its operation documents (status, media type, body schema), by ajv against the
 * committed document (libs/api-client/openapi.json), which the gateway serves byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

type Json = Record<string, unknown>;

interface MediaType {
  schema?: Json;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
  headers?: Record<string, { required?: boolean }>;
}
interface OperationObject {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}

export interface Answer {
  method: string;
  /** The path as requested (no query). */
  path: string;
  status: number;
  contentType: string;
  /** The body as text; undefined when it was not read (an event stream). */
  body?: string;
  /** Names of the headers answered (any case). */
  headers?: string[];
}

const SNAPSHOT = join(new URL('../../..', import.meta.url).pathname, 'libs/api-client/openapi.json');
const DOCUMENT_ID = 'openapi.json';
/** What `toProblem` writes for a route that does not exist (no operation to check it against). */
const PROBLEM_REF = `${DOCUMENT_ID}#/components/schemas/Problem`;

/**
 * The document as ajv reads it: `#/components/...` references made absolute (so ajv finds
 * them in the added document), and OpenAPI 3.0's `nullable` beside `allOf`/`$ref` (a
 * nullable reference, which ajv's `nullable` does not reach into) as `anyOf` with null.
 */
function forAjv(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forAjv);
  if (value === null || typeof value !== 'object') return value;
  const converted = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOCUMENT_ID}${v}` : forAjv(v)]),
  ) as Json;
  if (converted.nullable === true && (converted.allOf || converted.$ref)) {
    const { nullable: _, type: __, ...schema } = converted;
    return { anyOf: [{ type: 'null' }, schema] };
  }
  return converted;
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class Contract {
  readonly document: { paths: Record<string, Record<string, OperationObject>> };
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { method: string; template: string; pattern: RegExp; params: number; operation: OperationObject }[] = [];

  constructor(file = SNAPSHOT) {
    this.document = JSON.parse(readFileSync(file, 'utf8')) as Contract['document'];
    // CommonJS: the plugin is the module's `default` (which it also is itself, at run time).
    ajvFormats.default(this.ajv);
    this.ajv.addSchema({ $id: DOCUMENT_ID, ...(forAjv(this.document) as Json) });
    for (const [template, item] of Object.entries(this.document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const params = (template.match(/\{[^}]+\}/g) ?? []).length;
        const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]*')}$`);
        this.routes.push({ method: method.toUpperCase(), template, pattern, params, operation });
      }
    }
    // Fastify matches an empty parameter too (`/polls//votes`). A literal segment beats a parameter (`/dead-letters/replay` before `/dead-letters/{id}`).
    this.routes.sort((a, b) => a.params - b.params);
  }

  /** The operation answering `method path`, if the document has one. */
  operation(method: string, path: string): { template: string; operation: OperationObject } | undefined {
    const route = this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(path));
    return route && { template: route.template, operation: route.operation };
  }

  /** What is wrong with an answer by the contract, or undefined. */
  check(answer: Answer): string | undefined {
    const where = `${answer.method} ${answer.path} → ${answer.status}`;
    const mediaType = answer.contentType.split(';')[0]!.trim().toLowerCase();
    // HEAD is GET without the body (Fastify answers it for every GET route).
    if (answer.method === 'HEAD') return this.check({ ...answer, method: 'GET', body: undefined });
    const found = this.operation(answer.method, answer.path);
    if (!found) {
      // No such operation (a path or method the API does not have): the router's 404, a problem.
      if (![400, 404, 414, 429, 431].includes(answer.status)) return `${where}: no operation documents ${answer.method} ${answer.path}`;
      return this.checkBody(where, this.validator(PROBLEM_REF), mediaType, 'application/problem+json', answer.body);
    }
    const { template, operation } = found;
    const documented = operation.responses[String(answer.status)] ?? operation.responses.default;
    if (!documented) return `${where}: ${operation.operationId ?? template} documents ${Object.keys(operation.responses).join(', ')}, not ${answer.status}`;
    const answered = new Set((answer.headers ?? []).map((h) => h.toLowerCase()));
    const missing = Object.entries(documented.headers ?? {}).filter(([name, h]) => h.required && answer.headers && !answered.has(name.toLowerCase()));
    if (missing.length > 0) return `${where}: without the required header(s) ${missing.map(([name]) => name).join(', ')}`;
    const content = documented.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      if (answer.body) return `${where}: documented without a body, answered ${answer.body.length} characters of ${mediaType || 'no type'}`;
      return undefined;
    }
    if (answer.body === '' && answer.status === 304) return undefined;
    if (!types.includes(mediaType)) return `${where}: answered ${mediaType || 'no content type'}, documented ${types.join(', ')}`;
    if (!content[mediaType]!.schema || mediaType === 'text/event-stream') return undefined;
    const ref = `${DOCUMENT_ID}#${pointer('', 'paths', template, answer.method.toLowerCase(), 'responses', documented === operation.responses.default ? 'default' : String(answer.status), 'content', mediaType, 'schema')}`;
    return this.checkBody(where, this.validator(ref), mediaType, mediaType, answer.body);
  }

  private checkBody(where: string, validate: ValidateFunction, mediaType: string, expected: string, body: string | undefined): string | undefined {
    if (mediaType !== expected) return `${where}: answered ${mediaType || 'no content type'}, documented ${expected}`;
    if (body === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return `${where}: the ${mediaType} body is not JSON: ${body.slice(0, 200)}`;
    }
    if (validate(value)) return undefined;
    const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`);
    return `${where}: the body does not match its schema: ${errors.join('; ')}; body: ${body.slice(0, 300)}`;
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    return validate;
  }
}
