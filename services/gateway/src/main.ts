import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { runService, startHttpService } from '@flotilla/observability';
import { AppModule, PERSISTENCE } from './app.module.js';
import { GatewayEnv } from './gateway.env.js';
import { configureGatewayHttp } from './http/configure-http.js';
import { isDependencyDown } from './http/dependency-down.js';

await runService('gateway', async () => {
  const env = loadEnv(GatewayEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule, {
    service: 'gateway',
    port: env.HTTP_PORT,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    trustProxy: env.TRUST_PROXY === 'true' ? true : env.TRUST_PROXY || false,
    isDependencyUnavailable: isDependencyDown,
    configure: (app, fastify) => configureGatewayHttp(app, fastify, env),
  });
});
