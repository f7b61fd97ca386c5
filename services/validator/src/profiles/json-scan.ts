/**
 * Reading a large JSON document piece by piece instead of building it whole: a 16 MiB
 * array of empty objects is some 5 million objects (half a GiB) once parsed, but a few
 * bytes per element when each element is parsed, checked and dropped in turn.
 * {@link jsonSyntaxError} checks the whole text first, so the other functions may
 * assume it is valid JSON. Everything here is iterative: any nesting depth is fine.
 */

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

class SyntaxAt extends Error {
  constructor(readonly position: number, detail: string) {
    super(detail);
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function unexpected(text: string, i: number): SyntaxAt {
  return i >= text.length
    ? new SyntaxAt(i, 'Unexpected end of JSON input')
    : new SyntaxAt(i, `Unexpected character ${JSON.stringify(text[i])} in JSON at position ${i}`);
}

/** The index after the string starting at `i` (a `"`), checking its escapes and characters. */
function scanString(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) throw unexpected(text, i);
    if (c === 0x5c) {
      const e = text[++i];
      if (e === 'u') {
        HEX4.lastIndex = i + 1;
        if (!HEX4.test(text)) throw unexpected(text, i + 1);
        i += 4;
      } else if (e === undefined || !'"\\/bfnrt'.includes(e)) throw unexpected(text, i);
    }
  }
  throw unexpected(text, i);
}

/** The index after the number or literal starting at `i`. */
function scanScalar(text: string, i: number): number {
  for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return i + literal.length;
  NUMBER.lastIndex = i;
  if (NUMBER.test(text)) return NUMBER.lastIndex;
  throw unexpected(text, i);
}

/** Where `text` stops being valid JSON, as JSON.parse would say it; `undefined` when it is valid. Builds no values. */
export function jsonSyntaxError(text: string): string | undefined {
  const open: number[] = []; // 0x7b `{` or 0x5b `[` of each container entered
  let state: 'value' | 'valueOrEnd' | 'key' | 'keyOrEnd' | 'after' = 'value';
  let i = skipSpace(text, 0);
  try {
    for (;;) {
      i = skipSpace(text, i);
      const c = text.charCodeAt(i);
      if (state === 'after') {
        const top = open.at(-1);
        if (top === undefined) {
          if (i < text.length) throw new SyntaxAt(i, `Unexpected non-whitespace character after JSON at position ${i}`);
          return undefined;
        }
        if (c === 0x2c) state = top === 0x7b ? 'key' : 'value';
        else if ((c === 0x7d && top === 0x7b) || (c === 0x5d && top === 0x5b)) open.pop();
        else throw unexpected(text, i);
        i++;
        continue;
      }
      if (i >= text.length) throw unexpected(text, i);
      if (state === 'key' || state === 'keyOrEnd') {
        if (state === 'keyOrEnd' && c === 0x7d) {
          open.pop();
          i++;
          state = 'after';
          continue;
        }
        if (c !== 0x22) throw unexpected(text, i);
        i = skipSpace(text, scanString(text, i));
        if (text.charCodeAt(i) !== 0x3a) throw unexpected(text, i);
        i++;
        state = 'value';
        continue;
      }
      if (state === 'valueOrEnd' && c === 0x5d) {
        open.pop();
        i++;
        state = 'after';
      } else if (c === 0x7b || c === 0x5b) {
        open.push(c);
        i++;
        state = c === 0x7b ? 'keyOrEnd' : 'valueOrEnd';
      } else {
        i = c === 0x22 ? scanString(text, i) : scanScalar(text, i);
        state = 'after';
      }
    }
  } catch (e) {
    if (e instanceof SyntaxAt) return e.message;
    throw e;
  }
}

/** The index after the value starting at `i`, in a text known to be valid JSON. */
export function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return scanString(text, i);
  if (c !== 0x7b && c !== 0x5b) return scanScalar(text, i);
  let depth = 0;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x22) i = scanString(text, i) - 1;
    else if (d === 0x7b || d === 0x5b) depth++;
    else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
  }
  return i;
}

/** Where each value is, `[start, end)`. */
export type Span = readonly [number, number];

/**
 * The members of the top-level object of a valid JSON text, by name (a repeated name
 * keeps its last value, as JSON.parse does); `undefined` when the top level is no object.
 */
export function topLevelMembers(text: string): Map<string, Span> | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  const members = new Map<string, Span>();
  i = skipSpace(text, i + 1);
  while (text.charCodeAt(i) === 0x22) {
    const keyEnd = scanString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const start = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the `:`
    const end = skipValue(text, start);
    members.set(name, [start, end]);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1);
  }
  return members;
}

/** The elements of the valid JSON array at `span`, in order. */
export function* arrayElements(text: string, span: Span): Generator<Span> {
  let i = skipSpace(text, span[0] + 1);
  while (i < span[1] && text.charCodeAt(i) !== 0x5d) {
    const end = skipValue(text, i);
    yield [i, end];
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1);
  }
}

export const isArrayAt = (text: string, span: Span): boolean => text.charCodeAt(span[0]) === 0x5b;
