import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { runService, startHttpService } from '@flotilla/observability';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { AppModule, PERSISTENCE } from './app.module.js';
import { UploadEnv } from './upload.env.js';

await runService('upload', async () => {
  const env = loadEnv(UploadEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule, {
    service: 'upload',
    port: env.HTTP_PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  });
});
