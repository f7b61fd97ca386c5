import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { runService, startHttpService } from '@flotilla/observability';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { AppModule, PERSISTENCE } from './app.module.js';
import { ValidatorEnv } from './validator.env.js';

await runService('validator', async () => {
  const env = loadEnv(ValidatorEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule.forRoot(env), {
    service: 'validator',
    port: env.HTTP_PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  });
});
