import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { GatewayEnv } from '../gateway.env.js';
import { RequestLogService } from '../request-log/request-log.service.js';

export const API_PREFIX = 'api/v1';

/**
 * The public edge: `/api/v1` prefix, security headers, CORS from config, the request
 * log and the OpenAPI document (`/api/openapi.json`, UI at `/api/docs`).
 */
export async function configureGatewayHttp(app: NestFastifyApplication, fastify: FastifyInstance, env: GatewayEnv): Promise<void> {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/{*path}', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  await app.register(helmet, {
    // The Swagger UI needs inline styles and scripts; everything else is JSON.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: env.NODE_ENV === 'production' ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  const origins = env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  app.enableCors({
    origin: origins.length > 0 ? origins : false,
    credentials: false,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag'],
  });

  const requestLog = app.get(RequestLogService);
  fastify.addHook('onResponse', (request, reply, done) => {
    requestLog.record(request, reply);
    done();
  });

  const config = new DocumentBuilder()
    .setTitle('Flotilla API')
    .setDescription('Datasets, polls and votes, stores and administration. Errors are application/problem+json.')
    .setVersion(env.SERVICE_VERSION)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json' });
}
