/**
 * The gateway's OpenAPI document as a route table, and fast-check arbitraries built from
 * its schemas: the fuzz and security tests take their routes from here, so a new route
 * is covered the day it is documented, without editing a test.
 */
import fc from 'fast-check';

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  nullable?: boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  example?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; security?: unknown[]; produces?: string[]; responses?: Record<string, { content?: Record<string, unknown> }> }>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: string;
  /** The templated path, e.g. `/api/v1/datasets/{id}`. */
  path: string;
  operationId: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON body's schema, dereferenced at the top level; undefined when the route takes none. */
  body?: Schema;
  /** Needs a bearer token (the document lists a security requirement). */
  authenticated: boolean;
  /** Administrators only, by the route's place under `/admin/`. */
  adminOnly: boolean;
  /** Answers a never-ending or long-lived server-sent event stream. */
  eventStream: boolean;
  /** `METHOD /path` for messages. */
  label: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Fetches `/api/openapi.json` from the gateway. */
export async function fetchOpenApi(gatewayUrl: string): Promise<OpenApiDocument> {
  const res = await fetch(`${gatewayUrl}/api/openapi.json`);
  if (res.status !== 200) throw new Error(`/api/openapi.json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/** Every operation of the document. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = (op.parameters ?? []).map((p) => ({ ...p, schema: p.schema ? deref(doc, p.schema) : undefined }));
      const json = op.requestBody?.content?.['application/json']?.schema;
      const content = Object.values(op.responses ?? {}).flatMap((r) => Object.keys(r.content ?? {}));
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: json ? deref(doc, json) : undefined,
        authenticated: Array.isArray(op.security) && op.security.length > 0,
        adminOnly: /^\/api\/v\d+\/admin\//.test(path),
        eventStream: content.includes('text/event-stream') || /\/events$/.test(path),
        label: `${method.toUpperCase()} ${path}`,
      });
    }
  }
  return operations;
}

/** Resolves `$ref` and flattens `allOf` at the top of a schema (nested schemas are resolved lazily). */
export function deref(doc: OpenApiDocument, schema: Schema, depth = 0): Schema {
  if (depth > 20) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return deref(doc, { ...target, ...(schema.nullable ? { nullable: true } : {}) }, depth + 1);
  }
  if (schema.allOf && schema.allOf.length > 0) {
    const parts = schema.allOf.map((s) => deref(doc, s, depth + 1));
    const { allOf: _, ...rest } = schema;
    return parts.reduce<Schema>(
      (acc, p) => ({
        ...acc,
        ...p,
        properties: { ...acc.properties, ...p.properties },
        required: [...(acc.required ?? []), ...(p.required ?? [])],
      }),
      rest,
    );
  }
  return schema;
}

/** Fills `{name}` placeholders, each value URL-encoded unless `raw` says otherwise. */
export function fillPath(path: string, values: Record<string, string>, raw = false): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name] ?? '';
    return raw ? value : encodeUnsafe(value);
  });
}

/**
 * encodeURIComponent that also takes lone surrogates (which it refuses), sending them as
 * the bytes of their WTF-8 form: invalid UTF-8 for the server to cope with.
 */
export function encodeUnsafe(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return Array.from(value)
      .map((ch) => {
        const code = ch.charCodeAt(0);
        if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) {
          return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
        }
        return encodeURIComponent(ch);
      })
      .join('');
  }
}

/** Fast-check arbitraries over JSON values that follow (or deliberately break) the schemas of a document. */
export class SchemaArbitraries {
  constructor(
    private readonly doc: OpenApiDocument,
    /** Real values to mix in by property or parameter name (ids of existing resources, say). */
    private readonly known: Record<string, string[]> = {},
  ) {}

  /** A value valid for `schema`, or close to it (formats are approximated). */
  valid(schema: Schema, name = '', depth = 0): fc.Arbitrary<unknown> {
    const s = deref(this.doc, schema);
    const base = this.validInner(s, name, depth);
    return s.nullable ? fc.option(base, { nil: null, freq: 5 }) : base;
  }

  private validInner(s: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
    if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
    if (s.oneOf?.length || s.anyOf?.length) return fc.oneof(...(s.oneOf ?? s.anyOf ?? []).map((x) => this.valid(x, name, depth + 1)));
    const known = this.known[name] ?? [];
    switch (s.type) {
      case 'string': {
        const options: fc.Arbitrary<unknown>[] = [];
        if (known.length > 0) options.push(fc.constantFrom(...known));
        if (s.format === 'uuid' || /Id$/.test(name) || name === 'id') options.push(fc.uuid());
        else if (/email/i.test(name)) options.push(fc.emailAddress());
        else if (s.pattern) options.push(fc.stringMatching(new RegExp(s.pattern)));
        else options.push(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 200) }));
        if (typeof s.example === 'string') options.push(fc.constant(s.example));
        return fc.oneof(...options);
      }
      case 'number':
      case 'integer': {
        const min = s.minimum ?? -1000;
        const max = s.maximum ?? 1_000_000;
        return fc.oneof(fc.integer({ min: Math.ceil(min), max: Math.floor(max) }), fc.constantFrom(min, max));
      }
      case 'boolean':
        return fc.boolean();
      case 'array': {
        const items = s.items ?? {};
        const minLength = s.minItems ?? 0;
        const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 4, depth > 1 ? 2 : 4));
        return fc.array(this.valid(items, name, depth + 1), { minLength, maxLength });
      }
      case 'object':
      default: {
        if (!s.properties) return depth > 2 ? fc.constant({}) : fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, prop] of Object.entries(s.properties)) model[key] = this.valid(prop, key, depth + 1);
        return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
      }
    }
  }

  /** A value for a property of `schema` that breaks it: wrong type, out of range, hostile text. */
  wrong(schema: Schema): fc.Arbitrary<unknown> {
    const s = deref(this.doc, schema);
    const wrongType: fc.Arbitrary<unknown>[] = [hostileScalar(), deepValue(), fc.jsonValue({ maxDepth: 3 })];
    if (s.type === 'number' || s.type === 'integer') {
      wrongType.push(fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5, -0, Number.MAX_SAFE_INTEGER, (s.maximum ?? 0) + 1, (s.minimum ?? 0) - 1, '1', '1e3', 'NaN'));
    }
    if (s.type === 'string') wrongType.push(fc.constantFrom(0, true, null, [], {}, ['a'], { $ne: null }));
    if (s.type === 'array') wrongType.push(fc.constantFrom({}, 'a', 1, null), fc.array(hostileScalar(), { maxLength: 3 }), fc.constant(Array.from({ length: 5000 }, (_, i) => i)));
    if (s.enum) wrongType.push(fc.constantFrom(...s.enum.map((e) => (typeof e === 'string' ? e.toUpperCase() + ' ' : e))));
    return fc.oneof(...wrongType);
  }

  /**
   * A JSON body for `schema`: valid, valid with one property broken, missing a required
   * property, with unknown properties, or something else entirely.
   */
  body(schema: Schema | undefined): fc.Arbitrary<unknown> {
    const any = fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileScalar(), deepValue(), fc.constant({ __proto__: { admin: true } }), fc.constant(null));
    if (!schema) return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: any, weight: 2 });
    const s = deref(this.doc, schema);
    const valid = this.valid(s);
    const props = Object.keys(s.properties ?? {});
    const variants: { arbitrary: fc.Arbitrary<unknown>; weight: number }[] = [
      { arbitrary: valid, weight: 4 },
      { arbitrary: any, weight: 2 },
    ];
    if (props.length > 0) {
      variants.push({
        arbitrary: fc
          .tuple(valid, fc.constantFrom(...props))
          .chain(([v, key]) => this.wrong(s.properties![key]!).map((bad) => ({ ...(v as object), [key]: bad }))),
        weight: 5,
      });
      variants.push({
        arbitrary: fc.tuple(valid, fc.constantFrom(...props)).map(([v, key]) => {
          const copy = { ...(v as Record<string, unknown>) };
          delete copy[key];
          return copy;
        }),
        weight: 1,
      });
      variants.push({
        arbitrary: fc.tuple(valid, fc.constantFrom('isAdmin', 'role', 'teamId', '__proto__', 'constructor', 'x'.repeat(300), '$where'), hostileScalar()).map(([v, key, value]) => {
          const copy = { ...(v as Record<string, unknown>) };
          Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
          return copy;
        }),
        weight: 1,
      });
    }
    return fc.oneof(...variants);
  }
}

/** Strings built to hurt: injections, traversal, control and odd Unicode characters, huge ones. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(5)--',
  '" OR ""="',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/etc/passwd%00.png',
  'a\u0000b',
  '\u0000',
  '\u0007\u001b[31mred',
  'line\r\nX-Injected: 1',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '%s%s%s%n',
  '\uFEFFbom',
  '\u202Egnp.exe',
  'Z̴̡̛a̷l̸g̶o̵',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  '\uD800',
  '\uDFFF\uD800',
  '𝕏'.repeat(70),
  'NaN',
  '-1',
  '1e309',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
  'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
  'x'.repeat(256),
  'x'.repeat(10_000),
];

export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 6 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 2 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }), weight: 1 },
    { arbitrary: fc.integer({ min: 1000, max: 120_000 }).map((n) => 'é'.repeat(n)), weight: 1 },
  );
}

export function hostileScalar(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: hostileString(), weight: 5 },
    { arbitrary: fc.constantFrom(0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, true, false, null), weight: 2 },
    { arbitrary: fc.double(), weight: 1 },
  );
}

/** Deeply nested arrays or objects. */
export function deepValue(): fc.Arbitrary<unknown> {
  return fc.tuple(fc.integer({ min: 20, max: 3000 }), fc.boolean()).map(([depth, arrays]) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });
}

/**
 * A plain, valid-looking body for `schema`: required properties, plus optional ones that
 * have an example; ids (`…Id` properties) from `idFor`, other values from examples or
 * the simplest value of their type.
 */
export function exampleBody(doc: OpenApiDocument, schema: Schema, idFor: (name: string) => string | undefined, depth = 0): unknown {
  const s = deref(doc, schema);
  if (s.example !== undefined && s.type !== 'object') return s.example;
  if (s.enum && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case 'string':
      return 'example';
    case 'number':
    case 'integer':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return depth > 3 || !s.items ? [] : Array.from({ length: s.minItems ?? 0 }, () => exampleBody(doc, s.items!, idFor, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        const p = deref(doc, prop);
        const id = /Id$/.test(key) ? idFor(key) : undefined;
        if (id !== undefined) out[key] = id;
        else if ((s.required ?? []).includes(key) || p.example !== undefined) out[key] = exampleBody(doc, p, idFor, depth + 1);
      }
      return out;
    }
  }
}
