/**
 * e2e setup (jest.config.mjs, setupFilesAfterEnv): every answer a test gets by `fetch` from a
 * gateway's `/api/v1` is checked against the OpenAPI document; an undocumented status, media
 * type or a body off its schema fails the test that got it (after it ran, so the test's own
 * error handling cannot swallow it). Event streams are checked by status and type only.
 */
import { afterEach } from '@jest/globals';
import { Contract } from './contract.js';

const API = /^\/api\/v\d+\//;
const contract = new Contract();
const violations: string[] = [];
const originalFetch = globalThis.fetch;

async function record(method: string, url: URL, response: Response): Promise<void> {
  const contentType = response.headers.get('content-type') ?? '';
  const stream = contentType.includes('text/event-stream');
  const body = stream ? undefined : await response.clone().text().catch(() => undefined);
  const violation = contract.check({ method, path: url.pathname, status: response.status, contentType, body: stream ? undefined : body, headers: [...response.headers.keys()] });
  if (violation) violations.push(violation);
}

globalThis.fetch = async function contractCheckedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  const response = await originalFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  // A CORS preflight (OPTIONS) is answered by the CORS layer for any path: no operation of the API.
  if (API.test(url.pathname) && method !== 'OPTIONS') await record(method, url, response);
  return response;
};

afterEach(() => {
  if (violations.length === 0) return;
  const found = violations.splice(0);
  throw new Error(`${found.length} answer(s) off the OpenAPI contract:\n${[...new Set(found)].slice(0, 20).join('\n')}`);
});
