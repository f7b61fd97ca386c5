import 'reflect-metadata';
import { loadEnv } from '@flotilla/config';
import { runService, startHttpService } from '@flotilla/observability';
import { migrateOnlyIfAsked } from '@flotilla/persistence';
import { AppModule, PERSISTENCE } from './app.module.js';
import { VoteConsumerEnv } from './vote-consumer.env.js';

await runService('vote-consumer', async () => {
  const env = loadEnv(VoteConsumerEnv);
  if (await migrateOnlyIfAsked(env, PERSISTENCE)) return;
  await startHttpService(AppModule, {
    service: 'vote-consumer',
    port: env.HTTP_PORT,
    logLevel: env.LOG_LEVEL,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  });
});
