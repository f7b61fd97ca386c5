#!/usr/bin/env node
// Writes the gateway's OpenAPI document (the one it serves at /api/openapi.json) to a file,
// without a database, Redis or broker: the application graph is built in preview mode (no
// provider is instantiated, nothing connects) and the document is taken from its controllers.
//
//   node scripts/openapi-document.mjs [out]   (default libs/api-client/openapi.json; `-` for stdout)
//
// Needs the gateway built (node scripts/build.mjs). The e2e suite checks that a running
// gateway serves exactly this file, so a change to the API shows up in the committed snapshot.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = process.argv[2] ?? join(root, 'libs/api-client/openapi.json');

const gateway = (path) => import(join(root, 'services/gateway/dist', path));
const { NestFactory } = await import('@nestjs/core');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const { AppModule } = await gateway('app.module.js');
const { setApiPrefix } = await gateway('http/configure-http.js');
const { createOpenApiDocument } = await gateway('http/openapi/document.js');

const app = await NestFactory.create(AppModule, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
setApiPrefix(app);
const text = `${JSON.stringify(createOpenApiDocument(app), null, 2)}\n`;
if (out === '-') process.stdout.write(text);
else writeFileSync(out, text);
await app.close();
