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
  // Traces only, unless asked: metrics are Prometheus' (/metrics) and logs go to stdout, so
  // the SDK's default OTLP metrics and logs exporters would only double them (and cost CPU).
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      // The command's name only: its arguments are keys with addresses and whole vote entries
      // (user, address, user agent), which have no place in a trace, and serialising them cost
      // the gateway 2% of its CPU under vote load.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
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
