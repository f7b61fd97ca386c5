import { describe, expect, it } from '@jest/globals';
import { createFlotillaClient, FlotillaApiError } from './index.js';

/** A fetch that records each request and answers with `answer`. */
function fakeFetch(answer: (request: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    seen.push(request);
    return answer(request);
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

const problemJson = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } });

describe('createFlotillaClient', () => {
  it('turns a problem+json answer into a FlotillaApiError with the problem, its fields and Retry-After', async () => {
    const problem = {
      type: 'about:blank',
      title: 'Unprocessable Entity',
      status: 422,
      detail: 'The team is over its quota.',
      instance: '/api/v1/upload/start',
      errors: [{ path: 'files', message: 'at most 10 files' }],
    };
    const { fetch } = fakeFetch(() => problemJson(422, problem, { 'retry-after': '3' }));
    const api = createFlotillaClient({ baseUrl: 'http://api.test/', token: 't', fetch });
    const error = await api
      .GET('/api/v1/datasets', { params: { query: { limit: 5 } } })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FlotillaApiError);
    const e = error as FlotillaApiError;
    expect(e.status).toBe(422);
    expect(e.method).toBe('GET');
    expect(e.path).toBe('/api/v1/datasets?limit=5');
    expect(e.problem).toEqual(problem);
    expect(e.fieldErrors).toEqual([{ path: 'files', message: 'at most 10 files' }]);
    expect(e.retryAfterMs).toBe(3000);
    expect(e.text).toBeUndefined();
    expect(e.message).toBe('GET /api/v1/datasets?limit=5 answered 422: Unprocessable Entity — The team is over its quota.\n  - files: at most 10 files');
  });

  it('keeps a short piece of a body that is not JSON (a proxy error page)', async () => {
    const page = `<html><body>${'Bad gateway '.repeat(40)}</body></html>`;
    const { fetch } = fakeFetch(() => new Response(page, { status: 502, headers: { 'content-type': 'text/html' } }));
    const api = createFlotillaClient({ baseUrl: 'http://api.test', fetch });
    const e = (await api.GET('/api/v1/auth/me').catch((error: unknown) => error)) as FlotillaApiError;
    expect(e).toBeInstanceOf(FlotillaApiError);
    expect(e.status).toBe(502);
    expect(e.problem).toBeUndefined();
    expect(e.text).toHaveLength(300);
    expect(e.text!.startsWith('<html><body>Bad gateway')).toBe(true);
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.fieldErrors).toEqual([]);
  });

  it('takes invalid JSON labelled as JSON as text, and an HTTP-date Retry-After', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const { fetch } = fakeFetch(() => new Response('{oops', { status: 503, headers: { 'content-type': 'application/json', 'retry-after': at } }));
    const api = createFlotillaClient({ baseUrl: 'http://api.test', fetch });
    const e = (await api.GET('/api/v1/auth/me').catch((error: unknown) => error)) as FlotillaApiError;
    expect(e.status).toBe(503);
    expect(e.problem).toBeUndefined();
    expect(e.text).toBe('{oops');
    expect(e.retryAfterMs).toBeGreaterThan(50_000);
    expect(e.message).toBe('GET /api/v1/auth/me answered 503: {oops');
  });

  it('sends the bearer token, asking a token function at every request', async () => {
    const me = { id: 'u1', email: 'admin@example.com', role: 'admin', team: null };
    const { fetch, seen } = fakeFetch(() => Response.json(me));
    let current = 'first';
    const api = createFlotillaClient({ baseUrl: 'http://api.test', token: () => current, fetch, headers: { 'user-agent': 'test/1' } });
    await api.GET('/api/v1/auth/me');
    current = 'second';
    const { data } = await api.GET('/api/v1/auth/me');
    expect(seen.map((r) => r.headers.get('authorization'))).toEqual(['Bearer first', 'Bearer second']);
    expect(seen[0]!.url).toBe('http://api.test/api/v1/auth/me');
    expect(seen[0]!.headers.get('user-agent')).toBe('test/1');
    expect(data).toEqual(me);

    const anonymous = fakeFetch(() => Response.json({}));
    await createFlotillaClient({ baseUrl: 'http://api.test', fetch: anonymous.fetch }).GET('/api/v1/auth/me');
    expect(anonymous.seen[0]!.headers.has('authorization')).toBe(false);
  });

  it('resolves a 304 as an answer without data, not an error', async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 304, headers: { etag: '"v1"' } }));
    const api = createFlotillaClient({ baseUrl: 'http://api.test', token: 't', fetch });
    const result = await api.GET('/api/v1/validation/{datasetId}/status', {
      params: { path: { datasetId: '3f1c2b9e-0000-4000-8000-000000000001' } },
      headers: { 'if-none-match': '"v1"' },
    });
    expect(result.response.status).toBe(304);
    expect(result.data).toBeUndefined();
  });

  it('leaves errors to the caller with throwOnError: false', async () => {
    const { fetch } = fakeFetch(() => problemJson(404, { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such dataset.' }));
    const api = createFlotillaClient({ baseUrl: 'http://api.test', fetch, throwOnError: false });
    const { error, response } = await api.GET('/api/v1/datasets/{id}', { params: { path: { id: 'x' } } });
    expect(response.status).toBe(404);
    expect(error).toMatchObject({ title: 'Not Found', detail: 'No such dataset.' });
  });

  it('lets a network failure through as fetch threw it', async () => {
    const failure = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const { fetch } = fakeFetch(() => Promise.reject(failure));
    const api = createFlotillaClient({ baseUrl: 'http://api.test', fetch });
    await expect(api.GET('/api/v1/auth/me')).rejects.toBe(failure);
  });
});
