import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { runService, startHttpService } from '@flotilla/observability';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { AppModule, PERSISTENCE } from './app.module.js';
import { ProvisionerEnv } from './provisioner.env.js';

await runService('provisioner', async () => {
  const env = loadEnv(ProvisionerEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule, {
    service: 'provisioner',
    port: env.HTTP_PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  });
});
