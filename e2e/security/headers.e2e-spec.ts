import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { ADMIN_CONSOLE_CSP } from '@flotilla/contracts';
import { ADMIN, Platform } from '../support/platform.js';
import { send, type RawResponse } from '../fuzz/support/http.js';
import { ProductionCredentials } from './support/production-credentials.js';

const problemType = 'application/problem+json';
const ALLOWED = 'https://console.example.test';
const OTHER_ALLOWED = 'https://ops.example.test';
const BODY_LIMIT = 4096;

/** The headers every answer of the public edge carries, whatever its status. */
function edgeHeaderProblems(label: string, res: RawResponse, { production }: { production: boolean }): string[] {
  const h = res.headers;
  const problems: string[] = [];
  if (h.get('x-content-type-options') !== 'nosniff') problems.push(`${label}: X-Content-Type-Options ${h.get('x-content-type-options')}`);
  if (h.get('x-frame-options') !== 'DENY') problems.push(`${label}: X-Frame-Options ${h.get('x-frame-options')}`);
  if (h.get('referrer-policy') !== 'no-referrer') problems.push(`${label}: Referrer-Policy ${h.get('referrer-policy')}`);
  if (!(h.get('content-security-policy') ?? '').includes("frame-ancestors 'none'")) problems.push(`${label}: CSP ${h.get('content-security-policy')}`);
  if (h.get('x-powered-by')) problems.push(`${label}: X-Powered-By ${h.get('x-powered-by')}`);
  if (!h.get('x-request-id')) problems.push(`${label}: no X-Request-Id`);
  const hsts = h.get('strict-transport-security');
  if (production && !/max-age=\d{7,}/.test(hsts ?? '')) problems.push(`${label}: HSTS ${hsts} in production`);
  if (!production && hsts) problems.push(`${label}: HSTS ${hsts} outside production`);
  return problems;
}

/** A body sent in chunks with no Content-Length, so only the streamed size can be limited. */
function chunkedPost(url: string, path: string, size: number): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    const chunk = 'x'.repeat(1024);
    req.write('{"email":"a@b.c","password":"');
    for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
    req.end('"}');
  });
}

describe('security headers, body limit, CORS', () => {
  describe.each([
    ['development', false],
    ['production', true],
  ] as const)('%s mode', (mode, production) => {
    // Production refuses default secrets and credentials: the Platform's secrets are not the
    // defaults, and the shared servers are reached with a database role and broker user of its own.
    let platform: Platform;
    let own: ProductionCredentials | undefined;
    let token: string;

    beforeAll(async () => {
      own = production ? await ProductionCredentials.create() : undefined;
      platform = new Platform(
        { NODE_ENV: production ? 'production' : 'test', CORS_ORIGINS: `${ALLOWED}, ${OTHER_ALLOWED}`, BODY_LIMIT_BYTES: String(BODY_LIMIT), ...(own ? { DATABASE_URL: own.DATABASE_URL, AMQP_URL: own.AMQP_URL, INTERNAL_TOKEN_SECRET: 'headers-e2e-internal-token-secret-0123456789' } : {}) },
        production ? ['gateway'] : ['gateway', 'admin'],
      );
      await platform.start();
      token = await platform.api.login(ADMIN.email, ADMIN.password);
    });

    afterAll(async () => {
      await platform?.stop();
      await own?.drop();
    });

    it(`sets nosniff, DENY, no-referrer and a CSP on every kind of answer${production ? ', and HSTS' : ', without HSTS'}`, async () => {
      const base = platform.gateway.url;
      const answers: [string, RawResponse][] = [
        ['200 JSON', await send(base, { method: 'GET', url: '/api/v1/auth/me', token })],
        ['401', await send(base, { method: 'GET', url: '/api/v1/auth/me' })],
        ['404', await send(base, { method: 'GET', url: '/api/v1/nowhere', token })],
        ['400', await send(base, { method: 'POST', url: '/api/v1/auth/login', body: '{', contentType: 'application/json' })],
        ['413', await send(base, { method: 'POST', url: '/api/v1/auth/login', body: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(BODY_LIMIT) }), contentType: 'application/json' })],
        ['415', await send(base, { method: 'POST', url: '/api/v1/auth/login', body: 'a', contentType: 'application/xml' })],
        ['414', await send(base, { method: 'GET', url: `/api/v1/datasets/${'x'.repeat(500)}`, token })],
        ['400 bad URL', await send(base, { method: 'GET', url: '/api/v1/datasets/%ED%A0%80', token })],
        ['431', await send(base, { method: 'GET', url: `/api/v1/datasets?cursor=${'x'.repeat(20_000)}`, token })],
        ['OpenAPI', await send(base, { method: 'GET', url: '/api/openapi.json' })],
        ['health', await send(base, { method: 'GET', url: '/health/ready' })],
      ];
      const problems = answers.flatMap(([label, res]) => edgeHeaderProblems(label, res, { production }));
      console.log(`headers (${mode}): ${answers.length} kinds of answer checked (${answers.map(([l, r]) => `${l}→${r.status}`).join(', ')}); HSTS "${answers[0]![1].headers.get('strict-transport-security') ?? 'absent'}"; problems ${problems.length}`);
      expect(problems).toEqual([]);
    });

    it(`refuses a body over BODY_LIMIT_BYTES (${BODY_LIMIT}) with 413 problem+json, announced or streamed`, async () => {
      const announced = await send(platform.gateway.url, { method: 'POST', url: '/api/v1/auth/login', body: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(BODY_LIMIT + 1) }), contentType: 'application/json' });
      const streamed = await chunkedPost(platform.gateway.url, '/api/v1/auth/login', 64 * 1024);
      const under = await send(platform.gateway.url, { method: 'POST', url: '/api/v1/auth/login', body: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(BODY_LIMIT - 100) }), contentType: 'application/json' });
      expect([announced.status, announced.headers.get('content-type')]).toEqual([413, expect.stringContaining(problemType)]);
      expect((announced.json as { status: number }).status).toBe(413);
      expect([streamed.status, streamed.type]).toEqual([413, expect.stringContaining(problemType)]);
      expect(under.status).not.toBe(413);
      expect(under.status).toBeLessThan(500);
      console.log(`body limit (${mode}): ${BODY_LIMIT + 1}+ bytes with Content-Length → ${announced.status}, 64 KiB chunked → ${streamed.status}, just under → ${under.status}`);
    });

    it('answers CORS only for the configured origins', async () => {
      const preflight = (origin: string) =>
        send(platform.gateway.url, { method: 'OPTIONS', url: '/api/v1/auth/login', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
      const get = (origin: string) => send(platform.gateway.url, { method: 'GET', url: '/api/v1/auth/me', token, headers: { origin } });
      const origins = [ALLOWED, OTHER_ALLOWED, 'https://evil.example.test', 'https://console.example.test.evil.test', 'http://console.example.test', 'null'];
      const seen: string[] = [];
      for (const origin of origins) {
        const allowed = origin === ALLOWED || origin === OTHER_ALLOWED;
        const [pre, simple] = [await preflight(origin), await get(origin)];
        const acao = [pre.headers.get('access-control-allow-origin'), simple.headers.get('access-control-allow-origin')];
        seen.push(`${origin}: preflight ${pre.status} ${acao[0] ?? '-'}, GET ${acao[1] ?? '-'}`);
        expect(acao).toEqual(allowed ? [origin, origin] : [null, null]);
        expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
        if (allowed) expect(pre.headers.get('access-control-allow-methods') ?? '').toContain('POST');
      }
      console.log(`CORS (${mode}): ${seen.join('; ')}`);
    });

    it("gives API answers a CSP that allows nothing (no scripts, no inline), relaxed only for the documentation page", async () => {
      const base = platform.gateway.url;
      const api = [
        ['GET /api/v1/auth/me', await send(base, { method: 'GET', url: '/api/v1/auth/me', token })],
        ['GET /api/v1/auth/me 401', await send(base, { method: 'GET', url: '/api/v1/auth/me' })],
        ['GET /api/openapi.json', await send(base, { method: 'GET', url: '/api/openapi.json' })],
        ['GET /api/v1/nowhere 404', await send(base, { method: 'GET', url: '/api/v1/nowhere', token })],
        ['GET /health/ready', await send(base, { method: 'GET', url: '/health/ready' })],
        ['GET /api/documents (not the docs)', await send(base, { method: 'GET', url: '/api/documents' })],
      ] as const;
      const docs = await send(base, { method: 'GET', url: '/api/docs' });
      const docsAsset = await send(base, { method: 'GET', url: '/api/docs/swagger-ui-init.js' });
      const csp = (res: RawResponse): string => res.headers.get('content-security-policy') ?? '';
      const directives = (res: RawResponse): Map<string, string> => new Map(csp(res).split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values.join(' ')]));
      const lines = api.map(([label, res]) => `${label} → ${res.status}: ${csp(res)}`);
      console.log(`CSP (${mode}):\n  ${lines.join('\n  ')}\n  /api/docs → ${docs.status}: ${csp(docs)}\n  /api/docs/swagger-ui-init.js → ${docsAsset.status}: ${csp(docsAsset)}`);
      for (const [, res] of api) {
        const d = directives(res);
        expect({ defaultSrc: d.get('default-src'), frameAncestors: d.get('frame-ancestors') }).toEqual({ defaultSrc: "'none'", frameAncestors: "'none'" });
        expect(csp(res)).not.toMatch(/unsafe-inline|unsafe-eval|script-src|style-src/);
      }
      // The Swagger UI still works: its page gets the scripts and styles it needs, and only it.
      expect(docs.status).toBe(200);
      expect(docs.text).toContain('swagger-ui');
      expect(directives(docs).get('script-src')).toContain("'self'");
      expect(directives(docs).get('frame-ancestors')).toBe("'none'");
      expect(csp(docsAsset)).toBe(csp(docs));
    });

    if (!production) {
      it("serves the console at /admin/ with its own strict CSP (no inline scripts or styles) and DENY", async () => {
        const res = await send(platform.gateway.url, { method: 'GET', url: '/admin/' });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-security-policy')).toBe(ADMIN_CONSOLE_CSP);
        expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        const asset = /src="(\/admin\/[^"]+\.js)"/.exec(res.text)?.[1];
        if (asset) {
          const js = await send(platform.gateway.url, { method: 'GET', url: asset });
          expect(js.headers.get('content-security-policy')).toBe(ADMIN_CONSOLE_CSP);
        }
        console.log(`console CSP: ${res.headers.get('content-security-policy')}`);
      });
    }
  });
});
