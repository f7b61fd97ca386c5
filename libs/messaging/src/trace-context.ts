import { inSpan, receivedParent, SpanKind, traceContextFrom, traceFields, traceLinkFrom, type SpanOptions } from '@flotilla/observability';

/**
 * W3C trace context on the platform's messages, so one piece of work is one trace across
 * services: RPC requests and events carry `traceparent`/`tracestate` as AMQP headers, a
 * stream entry as fields of the same names, an outbox row inside its stored JSON (see
 * {@link OUTBOX_TRACE_KEY}). The headers are not covered by an event's signature (it binds
 * id, type, signer and body): a changed `traceparent` can only misfile a span, never
 * change what an event says. With tracing off all of this is empty and free.
 */

/** The current trace context as AMQP headers (or stream fields); `{}` with tracing off. */
export const traceHeaders = (): Record<string, string> => traceFields();

/**
 * Runs the sending side of a message in a span of `kind` (CLIENT for an RPC, PRODUCER for
 * an event), so the headers it writes with {@link traceHeaders} name that span.
 */
export function sendSpan<T>(name: string, kind: SpanKind.CLIENT | SpanKind.PRODUCER, attributes: SpanOptions['attributes'], fn: () => Promise<T>): Promise<T> {
  return inSpan(name, { kind, attributes }, fn);
}

/**
 * Runs the handling of a received message in a span (SERVER for an RPC, CONSUMER for an
 * event) whose parent is the trace context the message carries (or the amqplib
 * instrumentation's span for the delivery, itself that context's child).
 */
export function receiveSpan<T>(
  name: string,
  kind: SpanKind.SERVER | SpanKind.CONSUMER,
  carrier: Record<string, unknown> | undefined,
  attributes: SpanOptions['attributes'],
  fn: () => Promise<T>,
): Promise<T> {
  return inSpan(name, { kind, parent: receivedParent(carrier), attributes }, fn);
}

/**
 * Where an outbox row keeps the trace context of the work that added it, inside the stored
 * envelope JSON (no column, so no migration in each service); the relay takes it out
 * before publishing, so the event on the wire is the envelope as it was.
 */
export const OUTBOX_TRACE_KEY = '_trace';

/**
 * Handles a batch of stream entries in one CONSUMER span: the child of the entry's trace
 * when there is one entry, otherwise a new trace linked to each entry's (the OpenTelemetry
 * way for batches, which have many parents).
 */
export function streamBatchSpan<T>(stream: string, entries: { fields: Record<string, string> }[], fn: () => Promise<T>): Promise<T> {
  const attributes = { 'messaging.system': 'redis', 'messaging.destination.name': stream, 'messaging.batch.message_count': entries.length };
  if (entries.length === 1) return receiveSpan(`process ${stream}`, SpanKind.CONSUMER, entries[0]!.fields, attributes, fn);
  const links = entries.map((e) => traceLinkFrom(e.fields)).filter((l) => l !== undefined);
  return inSpan(`process ${stream}`, { kind: SpanKind.CONSUMER, parent: traceContextFrom(undefined), links, attributes }, fn);
}

export { SpanKind };
