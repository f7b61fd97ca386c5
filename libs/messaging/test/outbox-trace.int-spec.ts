import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { ENV, Naming, type BaseEnv } from '@flotilla/config';
import { deleteAmqp, dropSchemas, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { InternalCaller, Outbox, OUTBOX_CLAIMS_SQL, OUTBOX_TABLES_SQL, topologyNames, topologyResources } from '../src/index.js';
import { startService } from './rabbit-harness.js';

const TYPE = 'outboxtrace.happened';

/**
 * The outbox keeps the trace of the work that added an event: the relay, publishing later
 * from its own loop, continues that trace, and the event on the wire is the envelope as it
 * was (signed as before, nothing of the stored trace in its body).
 */
describe('outbox relay with tracing on', () => {
  const namespace = uniqueNamespace();
  const naming = new Naming(namespace);
  const schema = naming.schema('outboxtrace');
  const exchange = topologyNames(naming, 'upload').eventsExchange;
  const queue = naming.amqp('test.outboxtrace');
  const exporter = new tracing.InMemorySpanExporter();
  const received: ConsumeMessage[] = [];
  let sql: pg.Client;
  let connection: ChannelModel;
  let channel: Channel;
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }).register();
    sql = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await sql.connect();
    await sql.query(`CREATE SCHEMA "${schema}"`);
    for (const statement of [...OUTBOX_TABLES_SQL, ...OUTBOX_CLAIMS_SQL]) await sql.query(statement);
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await channel.bindQueue(queue, exchange, TYPE);
    await channel.consume(queue, (message) => void (message && received.push(message)), { noAck: true });
    app = await startService(namespace, { service: 'upload' }, [
      Outbox,
      {
        provide: DataSource,
        useFactory: () => new DataSource({ type: 'postgres', url: TEST_DATABASE_URL, extra: { max: 2, options: `-c search_path=${schema}` } }).initialize(),
      },
    ]);
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await dataSource?.destroy();
    await connection?.close();
    await sql?.end();
    await dropSchemas(namespace);
    const resources = topologyResources(naming, 'upload');
    await deleteAmqp([queue, ...resources.queues], resources.exchanges);
  });

  it('publishes a row later in the trace that added it, with the envelope unchanged and signed', async () => {
    const outbox = app.get(Outbox);
    // The work that adds the event: a request's span, ended before the relay runs.
    const { envelope, request } = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      const added = await dataSource.transaction((m) => outbox.add(m, TYPE, { n: 1 }));
      span.end();
      return { envelope: added, request: span.spanContext() };
    });
    const [{ stored }] = (await sql.query<{ stored: Record<string, unknown> }>(`SELECT envelope AS stored FROM outbox WHERE id = $1`, [envelope.id])).rows;
    expect(stored._trace).toEqual({ traceparent: `00-${request.traceId}-${request.spanId}-01` });

    // The relay, from outside any trace.
    context.with(ROOT_CONTEXT, () => outbox.flush());
    await waitFor(async () => received.length === 1, { timeoutMs: 15_000, what: 'the relayed event' });
    const [message] = received;
    expect(JSON.parse(message!.content.toString())).toEqual(envelope);
    const secret = app.get<BaseEnv>(ENV).INTERNAL_TOKEN_SECRET;
    expect(new InternalCaller(secret, 'test').verifyEvent(message!.properties.messageId, TYPE, message!.content, message!.properties.headers)).toBeUndefined();

    const publish = exporter.getFinishedSpans().find((s) => s.name === `publish ${TYPE}`)!;
    expect(publish.spanContext().traceId).toBe(request.traceId);
    expect(publish.parentSpanContext?.spanId).toBe(request.spanId);
    expect(String(message!.properties.headers?.traceparent)).toBe(`00-${request.traceId}-${publish.spanContext().spanId}-01`);
  });
});
