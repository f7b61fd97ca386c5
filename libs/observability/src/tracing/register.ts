/**
 * Tracing for a service, loaded before it with `node --import=@flotilla/observability/tracing`
 * (NODE_OPTIONS; see scripts/lib/node-options.mjs). When the standard `OTEL_*` variables ask
 * for traces ({@link tracingSettings}) it registers the module hook that lets the
 * instrumentations patch ES modules as they are imported, then starts the SDK; otherwise
 * it does nothing at all. The hook must be in place before the service's own imports are
 * resolved, which is why this cannot be an import inside the service.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { tracingSettings } from './settings.js';

const settings = tracingSettings(process.env, process.argv[1]);

// Worker threads inherit NODE_OPTIONS; the main thread's SDK is the one that exports.
if (isMainThread && settings.enabled) {
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  // Only modules an instrumentation asked for are wrapped, not every module imported.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions);
  const { startTracing } = await import('./sdk.js');
  startTracing(settings.serviceName);
  await waitForAllMessagesAcknowledged();
}
