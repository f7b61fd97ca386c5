import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { runService, startHttpService } from '@flotilla/observability';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { AdminEnv } from './admin.env.js';
import { AppModule, PERSISTENCE } from './app.module.js';
import { defaultConsoleDir, serveConsole } from './console.js';

await runService('admin', async () => {
  const env = loadEnv(AdminEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule, {
    service: 'admin',
    port: env.HTTP_PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    configure: (_, fastify) => serveConsole(fastify, env.CONSOLE_DIR || defaultConsoleDir()),
  });
});
