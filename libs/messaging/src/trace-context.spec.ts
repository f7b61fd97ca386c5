import { beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@flotilla/observability';
import { node, tracing } from '@opentelemetry/sdk-node';
import { receiveSpan, sendSpan, SpanKind, streamBatchSpan, traceHeaders } from './trace-context.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('trace context on messages', () => {
  it('is empty and costs nothing while no SDK is started (tracing off)', async () => {
    expect(traceHeaders()).toEqual({});
    const seen = await sendSpan('rpc x y', SpanKind.CLIENT, {}, async () => traceHeaders());
    expect(seen).toEqual({});
  });

  describe('with an SDK', () => {
    const exporter = new tracing.InMemorySpanExporter();
    // Registered only now: the test above runs without it.
    beforeAll(() => new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }).register());
    const finished = () => exporter.getFinishedSpans();

    it('carries the sending span to the receiver, as strings or as the Buffers AMQP decodes', async () => {
      exporter.reset();
      const headers = await sendSpan('rpc upload upload.start', SpanKind.CLIENT, {}, async () => traceHeaders());
      const [, traceId, spanId] = TRACEPARENT.exec(headers.traceparent ?? '') ?? [];
      expect(traceId).toBeDefined();
      await receiveSpan('rpc serve upload.start', SpanKind.SERVER, headers, {}, async () => undefined);
      await receiveSpan('process x', SpanKind.CONSUMER, { traceparent: Buffer.from(headers.traceparent!) }, {}, async () => undefined);
      const [client, server, consumer] = finished();
      expect(client!.spanContext()).toMatchObject({ traceId, spanId });
      for (const span of [server!, consumer!]) {
        expect(span.spanContext().traceId).toBe(traceId);
        expect(span.parentSpanContext?.spanId).toBe(spanId);
      }
    });

    it('starts a new trace for a message without one, and records a failure on the span', async () => {
      exporter.reset();
      await expect(receiveSpan('process y', SpanKind.CONSUMER, {}, {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      const [span] = finished();
      expect(span!.parentSpanContext).toBeUndefined();
      expect(span!.status).toMatchObject({ code: 2, message: 'boom' });
    });

    it('makes one stream entry the parent of its handling, and links a batch to each entry', async () => {
      exporter.reset();
      const a = await sendSpan('a', SpanKind.PRODUCER, {}, async () => traceHeaders());
      const b = await sendSpan('b', SpanKind.PRODUCER, {}, async () => traceHeaders());
      await streamBatchSpan('votes', [{ fields: { ...a, voteId: '1' } }], async () => undefined);
      await streamBatchSpan('votes', [{ fields: a }, { fields: b }, { fields: { voteId: 'untraced' } }], async () => undefined);
      const [sentA, sentB, single, batch] = finished();
      expect(single!.parentSpanContext?.spanId).toBe(sentA!.spanContext().spanId);
      expect(batch!.parentSpanContext).toBeUndefined();
      expect(batch!.links.map((l) => l.context.spanId)).toEqual([sentA!.spanContext().spanId, sentB!.spanContext().spanId]);
      expect(batch!.attributes['messaging.batch.message_count']).toBe(3);
    });

    it('writes the active span into log lines', async () => {
      const lines: string[] = [];
      const log = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
      log.info('outside');
      const ids = await sendSpan('work', SpanKind.PRODUCER, {}, async () => {
        log.info('inside');
        return TRACEPARENT.exec(traceHeaders().traceparent!)!;
      });
      const [outside, inside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(outside).not.toHaveProperty('traceId');
      expect(inside).toMatchObject({ traceId: ids[1], spanId: ids[2] });
    });
  });
});
