import { RequestMethod, type INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import httpProxy from '@fastify/http-proxy';
import { ADMIN_CONSOLE_CSP } from '@flotilla/contracts';
import type { FastifyInstance } from 'fastify';
import type { GatewayEnv } from '../gateway.env.js';
import { RequestLogService } from '../request-log/request-log.service.js';
import { StatusRoute } from '../datasets/status.route.js';
import { VoteRoute } from '../polls/vote.route.js';
import { installIpLimit } from '../rate-limit/ip-limit.hook.js';
import { RateLimiter } from '../rate-limit/rate-limiter.service.js';
import { API_CSP_DIRECTIVES, DOCS_CSP_DIRECTIVES, isDocsUrl, precomputeSecurityHeaders } from './security-headers.js';
import { refuseIllFormedInput } from './well-formed-input.js';
import { acceptYamlBodies } from './yaml-body.js';
import { createOpenApiDocument } from './openapi/document.js';
import { installRateLimitHeaders } from './openapi/rate-limit-headers.js';

export const API_PREFIX = 'api/v1';

/** `/api/v1` before every route but the probes and the scrape (also used to write the OpenAPI snapshot). */
export function setApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/{*path}', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
}

/**
 * The public edge: `/api/v1` prefix, security headers, CORS from config, the request
 * log and the OpenAPI document (`/api/openapi.json`, UI at `/api/docs`).
 */
export async function configureGatewayHttp(app: NestFastifyApplication, fastify: FastifyInstance, env: GatewayEnv): Promise<void> {
  setApiPrefix(app);
  // Helmet's headers, worked out once: nothing in them depends on the request. API answers
  // are JSON and need nothing from a browser: their CSP allows nothing. Only the Swagger UI
  // (/api/docs) gets the inline styles and scripts it needs.
  const common = {
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: env.NODE_ENV === 'production' ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  } as const;
  const api = precomputeSecurityHeaders({ ...common, contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES } });
  const docs = precomputeSecurityHeaders({ ...common, contentSecurityPolicy: { directives: DOCS_CSP_DIRECTIVES } });
  fastify.addHook('onRequest', (request, reply, done) => {
    const security = isDocsUrl(request.url) ? docs : api;
    void reply.headers(security.headers);
    for (const name of security.removed) reply.raw.removeHeader(name);
    done();
  });
  // Every string a request brings is checked (well-formed, no NUL, bounded) before any validator.
  refuseIllFormedInput(fastify);
  acceptYamlBodies(fastify);
  const origins = env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  app.enableCors({
    origin: origins.length > 0 ? origins : false,
    credentials: false,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag'],
  });

  // The live console's EventSource cannot send headers: its token comes as ?access_token=
  // on that one route, moves to the Authorization header, and leaves the URL before anything logs it.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'GET' && request.url.startsWith(`/${API_PREFIX}/admin/events?`)) {
      const url = new URL(request.url, 'http://gateway');
      const token = url.searchParams.get('access_token');
      if (token && !request.headers.authorization) request.headers.authorization = `Bearer ${token}`;
      url.searchParams.delete('access_token');
      request.raw.url = url.pathname + (url.search || '');
    }
    done();
  });

  installIpLimit(fastify, app.get(RateLimiter), env, [`POST /${API_PREFIX}/polls/:pollId/votes`, `GET /${API_PREFIX}/validation/:datasetId/status`]);
  installRateLimitHeaders(fastify);

  // The web console is served by the admin service; the browser sees one origin.
  await fastify.register(httpProxy, { upstream: env.ADMIN_URL, prefix: '/admin', rewritePrefix: '/admin', http: { requestOptions: { timeout: 10_000 } } });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.url === '/admin' || request.url.startsWith('/admin/')) void reply.header('content-security-policy', ADMIN_CONSOLE_CSP);
    done(null, payload);
  });

  // The hottest routes are served without Nest's per-request chain (same answers).
  app.get(VoteRoute).install(fastify, `/${API_PREFIX}/polls/:pollId/votes`);
  app.get(StatusRoute).install(fastify, `/${API_PREFIX}/validation/:datasetId/status`);

  const requestLog = app.get(RequestLogService);
  fastify.addHook('onResponse', (request, reply, done) => {
    requestLog.record(request, reply);
    done();
  });

  const document = createOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json' });
}
