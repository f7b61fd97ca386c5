import { NodeSDK } from '@opentelemetry/sdk-node';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

/** Probes and scrapes are polled every few seconds: a trace each would bury the real ones. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Starts the OpenTelemetry Node SDK: spans of HTTP (server and client, `fetch` too),
 * Postgres, ioredis, amqplib and the AWS SDK, W3C trace context and baggage as
 * propagators, and the exporter, sampler and batching the standard `OTEL_*` variables
 * describe (OTLP over HTTP/protobuf unless `OTEL_EXPORTER_OTLP_PROTOCOL` says otherwise).
 * Ends (flushing what is batched) when the process is about to exit.
 */
export function startTracing(serviceName: string): NodeSDK {
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    ],
  });
  sdk.start();
  let ending: Promise<void> | undefined;
  const end = (): Promise<void> => (ending ??= sdk.shutdown().catch(() => undefined));
  process.once('beforeExit', () => void end());
  return sdk;
}
