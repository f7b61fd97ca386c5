import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ADMIN_CONSOLE_CSP } from '@flotilla/contracts';

/** Where `vite build` puts the console: `services/admin/web/dist`. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../web/dist', import.meta.url));
}

/**
 * Serves the built console at `/admin/` with its CSP; any other path under `/admin/`
 * is the single-page app's own route and gets `index.html`. Without a build the
 * console answers 503 saying how to build it.
 */
export async function serveConsole(fastify: FastifyInstance, dir: string): Promise<void> {
  const built = existsSync(join(dir, 'index.html'));
  fastify.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/admin')) {
      void reply.header('content-security-policy', ADMIN_CONSOLE_CSP);
      void reply.header('x-frame-options', 'DENY');
      void reply.header('referrer-policy', 'no-referrer');
      void reply.header('x-content-type-options', 'nosniff');
    }
  });
  if (!built) {
    fastify.get('/admin/*', async (_, reply) =>
      reply.code(503).type('text/plain').send('The admin console is not built: run npm run build:console (npm start and npm test do it).'),
    );
    return;
  }
  await fastify.register(fastifyStatic, { root: dir, prefix: '/admin/', index: ['index.html'], wildcard: false, maxAge: '1h', immutable: false });
  fastify.get('/admin', async (_, reply) => reply.redirect('/admin/', 302));
  // The built files have routes of their own (wildcard: false); any other path is one of the app's pages.
  fastify.get('/admin/*', (request, reply) => {
    if (/\.[a-z0-9]+$/i.test(request.url.split('?')[0] ?? '')) {
      return reply.code(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not Found', status: 404, detail: `${request.url} does not exist.`, instance: request.url });
    }
    return reply.type('text/html').sendFile('index.html');
  });
}
