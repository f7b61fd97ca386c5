import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ADMIN_SCHEME, USER_SCHEME } from './endpoint.js';
import { PROBLEM_SCHEMA, PROBLEM_SCHEMA_OBJECT } from './problems.js';
import { applyValidationLimits } from './validation-limits.js';
import { refineDocument } from './refine.js';

/**
 * The contract's version: that of `/api/v1`, not of the running build, so the document a
 * gateway serves is the same file as the committed snapshot (libs/api-client/openapi.json).
 */
export const API_CONTRACT_VERSION = '1.0.0';

const TAGS: [string, string][] = [
  ['auth', 'Sign in, refresh and sign out; who the caller is'],
  ['datasets', 'Dataset uploads to S3 by presigned URLs, their validation, reports and downloads'],
  ['polls', 'Polls, high-volume votes and live results'],
  ['stores', "A team's stores: provisioning on the cluster, rollouts, pods, events and health"],
  ['admin', 'Administration: teams, users, quotas, logs, dead letters, retention, services and notifications'],
];

/** The public API's OpenAPI document, built from the controllers' decorators. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Flotilla API')
    .setDescription(
      'Datasets, polls and votes, stores and administration. Every error is an `application/problem+json` document (RFC 9457). ' +
        'Every request counts against a per-address limit, and a signed-in caller also against a per-user one: past either, 429 with `Retry-After`.',
    )
    .setVersion(API_CONTRACT_VERSION)
    .setLicense('UNLICENSED (proprietary; not for redistribution)', 'https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license')
    .addServer('/', 'The gateway that serves this document (local, staging or production alike)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token (JWT) from `POST /api/v1/auth/login`, verified as RFC8725 advises: HS256 only, issuer, audience, `iat` and `exp` required, revocation checked' }, USER_SCHEME)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "An administrator's access token (role `admin`; any other token gets 403), a JWT verified as RFC8725 advises: HS256 only, issuer, audience, `iat` and `exp` required, revocation checked" },
      ADMIN_SCHEME,
    );
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  // The probes and the scrape (/health/*, /metrics) are for the orchestrator and Prometheus,
  // not for API clients: they stay out of the contract.
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => path.startsWith('/api/')));
  document.components = { ...document.components, schemas: { ...document.components?.schemas, [PROBLEM_SCHEMA]: PROBLEM_SCHEMA_OBJECT as never } };
  applyValidationLimits(app, document);
  refineDocument(document);
  return document;
}
