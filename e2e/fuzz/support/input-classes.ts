/**
 * Ill-formed input, class by class, for every place a string enters an operation of the
 * OpenAPI document: each string (and number) field of its JSON body, each query and path
 * parameter, the headers the gateway reads, and the body as a whole (also on GET).
 */
import { deref, exampleBody, type OpenApiDocument, type Operation, type Schema } from './openapi.js';
import type { ByteRequest } from './http.js';

export interface Probe {
  /** The input class, for the report. */
  inputClass: string;
  /** Where the input went: `body email`, `query cursor`, `path id`, `header user-agent`, `body`. */
  where: string;
  request: ByteRequest;
  /** When set, the answer must be a 400 whose `errors` name this path. */
  names?: string;
  /** When set, the answer must have this status. */
  status?: number;
}

export interface ProbeContext {
  /** Bearer token for the operation (an admin's on admin routes). */
  token: string;
  /** A real value for a path parameter, so requests get past "not found". */
  pathValue: (op: Operation, name: string) => string;
  /** A real id for an `…Id` body property. */
  idFor: (name: string) => string | undefined;
}

/** Longer than any string the API takes; the edge refuses it before a validator measures it. */
export const OVER_LONG = 'x'.repeat(100_000);
const MARK = 'MARK_2b9f1c';
/** The bytes of a UTF-16 surrogate written as if it were a code point (WTF-8): not UTF-8 at all. */
const WTF8_SURROGATE = Buffer.from([0xed, 0xa0, 0x80]);
const HUGE_NUMBERS = ['1e309', '-0', String(2 ** 53) + '1', '9007199254740993', '-1e309'];

type Path = (string | number)[];

/** Paths of the string and number leaves of `schema` (arrays through their first item), three levels deep. */
export function leafPaths(doc: OpenApiDocument, schema: Schema, prefix: Path = [], depth = 0): { path: Path; type: string }[] {
  const s = deref(doc, schema);
  if (depth > 3) return [];
  if (s.type === 'array') return s.items ? leafPaths(doc, s.items, [...prefix, 0], depth + 1) : [];
  if (s.properties) return Object.entries(s.properties).flatMap(([key, prop]) => leafPaths(doc, prop, [...prefix, key], depth + 1));
  if (s.type === 'string' || s.type === 'number' || s.type === 'integer') return prefix.length > 0 ? [{ path: prefix, type: s.type }] : [];
  return [];
}

/** `base` with `value` at `path`, creating the objects and first array items on the way. */
function withValue(doc: OpenApiDocument, schema: Schema, base: unknown, path: Path, value: unknown, idFor: ProbeContext['idFor']): unknown {
  const root = structuredClone(base ?? {}) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = root;
  let s = deref(doc, schema);
  path.forEach((key, i) => {
    s = deref(doc, (typeof key === 'number' ? s.items : s.properties?.[key]) ?? {});
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    if (node[key] === null || typeof node[key] !== 'object' || (Array.isArray(node[key]) && (node[key] as unknown[]).length === 0)) {
      node[key] = s.type === 'array' ? [exampleBody(doc, s.items ?? {}, idFor)] : exampleBody(doc, s, idFor) ?? {};
    }
    node = node[key] as Record<string | number, unknown>;
  });
  return root;
}

const json = (token: string): ByteRequest['headers'] => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** Every probe of `op`. */
export function probesOf(doc: OpenApiDocument, op: Operation, ctx: ProbeContext): Probe[] {
  const probes: Probe[] = [];
  const pathWith = (name?: string, raw?: string): string =>
    op.path.replace(/\{([^}]+)\}/g, (_, p: string) => (p === name ? raw! : encodeURIComponent(ctx.pathValue(op, p))));
  const path = pathWith();
  const base = op.body ? exampleBody(doc, op.body, ctx.idFor) : undefined;
  const bodyText = base === undefined ? undefined : JSON.stringify(base);
  const request = (over: Partial<ByteRequest>): ByteRequest => {
    const req = { method: op.method, path, headers: json(ctx.token), body: bodyText, ...over };
    // Without a body, no content type: an empty JSON body is a 400 of its own.
    if (req.body === undefined) req.headers = Object.fromEntries(Object.entries(req.headers!).filter(([name]) => name !== 'content-type'));
    return req;
  };
  const add = (inputClass: string, where: string, req: ByteRequest, names?: string, status?: number): void => {
    probes.push({ inputClass, where, request: req, ...(names ? { names } : {}), ...(status ? { status } : {}) });
  };
  // The parser refuses these outright (400), on every method that reads a body.
  const refused = op.method === 'GET' ? undefined : 400;

  // Each string and number field of the body.
  if (op.body) {
    for (const { path: leaf, type } of leafPaths(doc, op.body)) {
      const where = `body ${leaf.join('.')}`;
      const name = leaf.join('.');
      const text = (value: unknown): string => JSON.stringify(withValue(doc, op.body!, base, leaf, value, ctx.idFor));
      const marked = text(MARK);
      const raw = (token: string): string => marked.replace(`"${MARK}"`, token);
      if (type === 'string') {
        // JSON.stringify writes a lone surrogate as the escape `\ud800`, which JSON.parse turns back into one.
        add('lone surrogate (JSON escape)', where, request({ body: text('\ud800@x.io') }), name);
        add('lone surrogate (JSON escape)', where, request({ body: raw('"a\\udfffb"') }), name);
        const [before, after] = marked.split(`"${MARK}"`) as [string, string];
        add('lone surrogate (raw bytes)', where, request({ body: Buffer.concat([Buffer.from(`${before}"`), WTF8_SURROGATE, Buffer.from(`@x.io"${after}`)]) }));
        add('NUL', where, request({ body: text('a\u0000b') }), name);
        add('over-long string', where, request({ body: text(OVER_LONG) }));
      }
      for (const n of HUGE_NUMBERS) add('huge number', where, request({ body: raw(n) }));
      const key = leaf.at(-1);
      if (typeof key === 'string' && type === 'string') {
        const duplicate = (first: string, second: string): string => marked.replace(`"${key}":"${MARK}"`, `"${key}":${first},"${key}":${second}`);
        // JSON.parse keeps the last of duplicate keys: the ill-formed one is what enters and is refused.
        add('duplicate keys', where, request({ body: duplicate('"ok"', '"\\ud800"') }), name);
        add('duplicate keys', where, request({ body: duplicate('"\\ud800"', '"ok"') }));
      }
    }
  }

  // The body as a whole: on every operation, GET included (Fastify reads none on GET: nothing of it enters).
  const deep = (n: number, arrays: boolean): string => (arrays ? '['.repeat(n) + '1' + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n));
  const bodyWith = (extra: string): string => (bodyText && bodyText.startsWith('{') && bodyText !== '{}' ? `{${extra},${bodyText.slice(1)}` : `{${extra}}`);
  add('deep nesting (10k)', 'body', request({ body: deep(10_000, false) }), undefined, refused);
  add('deep nesting (10k)', 'body', request({ body: deep(10_000, true) }), undefined, refused);
  add('deep nesting (10k)', 'body', request({ body: bodyWith(`"nested":${deep(10_000, false)}`) }), undefined, refused);
  add('__proto__ / constructor keys', 'body', request({ body: bodyWith('"__proto__":{"isAdmin":true,"role":"admin"}') }), undefined, refused);
  add('__proto__ / constructor keys', 'body', request({ body: bodyWith('"constructor":{"prototype":{"isAdmin":true}}') }), undefined, refused);
  add('__proto__ / constructor keys', 'body', request({ body: bodyWith('"x":{"__proto__":{"polluted":1}}') }), undefined, refused);
  add('__proto__ / constructor keys', 'body', request({ body: bodyWith('"constructor":"x"') }));
  // A key is named with its ill-formed part replaced (U+FFFD), as it can be written back.
  add('ill-formed key', 'body', request({ body: bodyWith('"\\ud800":"x"') }), op.method === 'GET' ? undefined : '\ufffd');
  if (op.method === 'GET' || op.method === 'DELETE') {
    // Fastify reads no body on GET (nothing of it enters); on DELETE it parses one.
    add('body on GET/DELETE', 'body', request({ body: '{"email":"\\ud800@x.io","x":1}' }), op.method === 'DELETE' ? 'email' : undefined);
    add('body on GET/DELETE', 'body', request({ body: '{"a":' }));
    add('body on GET/DELETE', 'body', request({ body: '{"__proto__":{"x":1}}' }));
  }

  // Each query and path parameter.
  const params = [...op.queryParams.map((p) => ['query', p.name] as const), ...op.pathParams.map((p) => ['path', p.name] as const)];
  for (const [place, name] of params) {
    const at = (raw: string): ByteRequest => (place === 'path' ? request({ path: pathWith(name, raw) }) : request({ path: `${path}?${encodeURIComponent(name)}=${raw}` }));
    const where = `${place} ${name}`;
    add('lone surrogate (percent-encoded bytes)', where, at('%ED%A0%80'));
    add('lone surrogate (percent-encoded bytes)', where, at('a%ED%B0%80b'));
    add('NUL', where, at('%00'), `${place === 'path' ? 'params' : 'query'}.${name}`);
    add('NUL', where, at('a%00b'), `${place === 'path' ? 'params' : 'query'}.${name}`);
    for (const bad of ['%E0%A4%A', '%', '%%', '%G1', 'a%F0%9F%98']) add('malformed percent-encoding', where, at(bad), undefined, 400);
    add('over-long string', where, at('x'.repeat(place === 'path' ? 90 : 6000)));
    for (const n of HUGE_NUMBERS) add('huge number', where, at(encodeURIComponent(n)));
  }
  // A query parameter the operation does not declare, and a repeated one.
  add('malformed percent-encoding', 'query (undeclared)', request({ path: `${path}?%E0%A4%A=%&x=%ED%A0%80` }), 'query');
  add('NUL', 'query (undeclared)', request({ path: `${path}?x=%00` }), 'query.x');

  // Headers the gateway reads.
  add('over-long header', 'header user-agent', request({ headers: { ...json(ctx.token), 'user-agent': 'x'.repeat(9000) } }), 'headers.user-agent');
  add('over-long header', 'header if-none-match', request({ headers: { ...json(ctx.token), 'if-none-match': `"${'x'.repeat(9000)}"` } }), 'headers.if-none-match');
  return probes;
}
