import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type TextMapGetter,
} from '@opentelemetry/api';

export { SpanKind };

/**
 * W3C trace context in the carriers the platform's messages have: AMQP headers, stream
 * entry fields, a JSON object in the outbox. All of it goes through the OpenTelemetry
 * API, which is a no-op until the SDK is started (tracing/register.ts): with tracing off
 * the fields are empty and spans record nothing.
 */
const tracer = () => trace.getTracer('flotilla');

/** Reads string or Buffer values (AMQP header tables decode long strings as either). */
const getter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

/** The current trace context as fields (`traceparent`, and `tracestate` when there is one); `{}` when no span is active. */
export function traceFields(from: Context = context.active()): Record<string, string> {
  const fields: Record<string, string> = {};
  propagation.inject(from, fields);
  return fields;
}

/** The context a carrier's `traceparent`/`tracestate` describe; an empty root context when it has none. */
export function traceContextFrom(carrier: Record<string, unknown> | undefined | null): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
}

/**
 * The parent for handling a received message: the active context when it already continues
 * the carrier's trace (a client library's own span for the delivery, e.g. amqplib's
 * instrumentation), otherwise the carrier's context.
 */
export function receivedParent(carrier: Record<string, unknown> | undefined | null): Context {
  const extracted = traceContextFrom(carrier);
  const active = trace.getSpanContext(context.active());
  const sent = trace.getSpanContext(extracted);
  return active && sent && active.traceId === sent.traceId ? context.active() : extracted;
}

/** A link to the span a carrier names, for work that handles many messages at once; undefined when it names none. */
export function traceLinkFrom(carrier: Record<string, unknown> | undefined | null): Link | undefined {
  const spanContext = trace.getSpanContext(traceContextFrom(carrier));
  return spanContext && trace.isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

export interface SpanOptions {
  kind: SpanKind;
  /** The parent; the active context unless given (e.g. one extracted from a message). */
  parent?: Context;
  links?: Link[];
  attributes?: Attributes;
}

/**
 * Runs `fn` in a new active span that ends when it settles; a rejection is recorded on
 * the span (status ERROR) and rethrown.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: () => Promise<T>): Promise<T> {
  const { kind, links, attributes } = options;
  return tracer().startActiveSpan(name, { kind, links, attributes }, options.parent ?? context.active(), async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The ids of the active span for a log line; `undefined` when none is recording. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { traceId, spanId } : undefined;
}

/** Runs `fn` with the trace context a carrier describes as the active one (work resumed later, e.g. an outbox row relayed). */
export function withTraceContextOf<T>(carrier: Record<string, unknown> | undefined | null, fn: () => T): T {
  return context.with(traceContextFrom(carrier), fn);
}
