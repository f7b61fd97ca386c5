import { describe, expect, it } from '@jest/globals';
import type { FastifyRequest } from 'fastify';
import { findIllFormed, illFormedInput, INPUT_LIMITS, malformedQuery } from './well-formed-input.js';

const request = (parts: Partial<Pick<FastifyRequest, 'headers' | 'params' | 'query' | 'body'>>): FastifyRequest =>
  ({ headers: {}, params: {}, query: {}, body: undefined, ...parts }) as FastifyRequest;

describe('findIllFormed', () => {
  it('passes well-formed input, paired surrogates (emoji) included', () => {
    expect(findIllFormed({ option: 'cats 😀', files: [{ filename: 'a.png', sizeBytes: 1 }], tags: ['x', null, 1e308] })).toBeUndefined();
    expect(findIllFormed(undefined)).toBeUndefined();
  });

  it.each([
    [{ email: '\ud800@x.io', password: 'x' }, { path: 'email', message: 'is not well-formed Unicode' }],
    [{ files: [{ filename: 'ok' }, { filename: 'a\udfffb' }] }, { path: 'files.1.filename', message: 'is not well-formed Unicode' }],
    [{ filter: { source: 'a\u0000b' } }, { path: 'filter.source', message: 'contains NUL (U+0000)' }],
    [{ name: 'x'.repeat(INPUT_LIMITS.maxString + 1) }, { path: 'name', message: `is longer than ${INPUT_LIMITS.maxString} characters` }],
    [{ ['\ud800']: 1 }, { path: '\ufffd', message: 'key is not well-formed Unicode' }],
    [{ ['k'.repeat(300)]: 1 }, { path: 'k'.repeat(300), message: `key is longer than ${INPUT_LIMITS.maxKey} characters` }],
    [['ok', ['\udc00']], { path: '1.0', message: 'is not well-formed Unicode' }],
  ])('names the first ill-formed string (case %#)', (value, problem) => {
    expect(findIllFormed(value)).toEqual(problem);
  });

  it('walks 100k levels of nesting without recursion', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? { a: deep } : [deep];
    expect(findIllFormed(deep)?.message).toBe('is not well-formed Unicode');
  });
});

describe('illFormedInput', () => {
  it.each(['/x?a=%', '/x?a=%%', '/x?a=%G1', '/x?a=%E0%A4%A', '/x?a=%ED%A0%80', '/x?%E0=1'])('refuses the malformed percent-encoding of %s', (url) => {
    expect(malformedQuery(url)).toEqual({ path: 'query', message: 'is not valid percent-encoded UTF-8' });
  });

  it('passes well-formed percent-encoding and URLs without a query', () => {
    for (const url of ['/x?a=%C3%A9%F0%9F%98%80&b=1', '/x?', '/x', '/x/%ED%A0%80']) expect(malformedQuery(url)).toBeUndefined();
  });

  it('checks the headers it reads, the path parameters, the query, then the body', () => {
    expect(illFormedInput(request({ headers: { 'user-agent': 'x'.repeat(INPUT_LIMITS.maxHeader + 1) } }))?.path).toBe('headers.user-agent');
    expect(illFormedInput(request({ params: { id: 'a\u0000' } }))?.path).toBe('params.id');
    expect(illFormedInput(request({ query: Object.assign(Object.create(null) as object, { cursor: ['ok', '\ud800'] }) }))?.path).toBe('query.cursor.1');
    // The query parser's and the router's objects: an instance of a class whose prototype has none.
    function Empty(): void {}
    Empty.prototype = Object.create(null) as object;
    const parsed = Object.assign(new (Empty as unknown as new () => object)(), { limit: '1', cursor: 'a\u0000b' });
    expect(illFormedInput(request({ query: parsed }))?.path).toBe('query.cursor');
    expect(illFormedInput(request({ body: { option: '\ud800' } }))?.path).toBe('option');
    expect(illFormedInput(request({ headers: { 'user-agent': 'curl/8' }, params: { pollId: 'p' }, body: { option: 'cats' } }))).toBeUndefined();
  });
});

describe('findIllFormed on what is not JSON', () => {
  it('does not walk streams, buffers or class instances (cycles, size)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    class Stream {
      readonly chunk = '\ud800';
      readonly loop = cyclic;
    }
    expect(findIllFormed(new Stream())).toBeUndefined();
    expect(findIllFormed(Buffer.from([0xed, 0xa0, 0x80]))).toBeUndefined();
    expect(findIllFormed({ body: new Stream(), ok: 'x' })).toBeUndefined();
  });
});
