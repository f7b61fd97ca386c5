import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import { deleteAmqp, dropSchemas, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { EventPublisher, Outbox, OUTBOX_CLAIMS_SQL, OUTBOX_TABLES_SQL, topologyNames, topologyResources } from '../src/index.js';
import { gate, startService } from './rabbit-harness.js';

const TYPE = 'outboxtest.happened';

interface Relay {
  app: INestApplicationContext;
  dataSource: DataSource;
  outbox: Outbox;
}

/** The transactional outbox of two service replicas sharing one table. */
describe('outbox relay', () => {
  const namespace = uniqueNamespace();
  const naming = new Naming(namespace);
  const schema = naming.schema('outboxtest');
  const exchange = topologyNames(naming, 'upload').eventsExchange;
  const queue = naming.amqp('test.outbox');
  /** Event id → how often it arrived. */
  const received = new Map<string, number>();
  const relays: Relay[] = [];
  let sql: pg.Client;
  let connection: ChannelModel;
  let channel: Channel;

  async function startRelay(): Promise<Relay> {
    const app = await startService(namespace, { service: 'upload' }, [
      Outbox,
      {
        provide: DataSource,
        useFactory: () => new DataSource({ type: 'postgres', url: TEST_DATABASE_URL, extra: { max: 4, options: `-c search_path=${schema}` } }).initialize(),
      },
    ]);
    const relay = { app, dataSource: app.get(DataSource), outbox: app.get(Outbox) };
    relays.push(relay);
    return relay;
  }

  /** Writes `count` events through `relay`'s outbox, each in its own committed transaction, and returns their ids. */
  async function addEvents(relay: Relay, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const envelope = await relay.dataSource.transaction((m) => relay.outbox.add(m, TYPE, { i }));
      ids.push(envelope.id);
    }
    return ids;
  }

  const unpublished = async (ids: string[]): Promise<number> =>
    (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND published_at IS NULL`, [ids])).rows[0].n;

  beforeAll(async () => {
    sql = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await sql.connect();
    await sql.query(`CREATE SCHEMA "${schema}"`);
    for (const statement of [...OUTBOX_TABLES_SQL, ...OUTBOX_CLAIMS_SQL]) await sql.query(statement);
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await channel.bindQueue(queue, exchange, TYPE);
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const { id } = JSON.parse(message.content.toString()) as EventEnvelope;
        received.set(id, (received.get(id) ?? 0) + 1);
      },
      { noAck: true },
    );
    await startRelay();
  });

  afterAll(async () => {
    for (const relay of relays) {
      await relay.app.close();
      await relay.dataSource.destroy();
    }
    await connection?.close();
    await sql?.end();
    await dropSchemas(namespace);
    const resources = topologyResources(naming, 'upload');
    await deleteAmqp([queue, ...resources.queues], resources.exchanges);
  });

  it('hole 7: no row lock is held while an event is being published', async () => {
    const [relay] = relays;
    const publisher = relay.app.get(EventPublisher);
    const original = publisher.publishEnvelope.bind(publisher);
    const entered = gate();
    const release = gate();
    const spy = jest.spyOn(publisher, 'publishEnvelope').mockImplementation(async (envelope) => {
      // Heartbeats pass; the relay's events wait until the test has looked at the locks.
      if (envelope.type !== TYPE) return original(envelope);
      entered.open();
      await release.promise;
      return original(envelope);
    });
    try {
      const ids = await addEvents(relay, 3);
      relay.outbox.flush();
      await entered.promise;
      // The relay is in the middle of publishing: another transaction can lock every row at once.
      await sql.query('BEGIN');
      try {
        const locked = await sql.query(`SELECT seq FROM outbox WHERE id = ANY($1::uuid[]) FOR UPDATE NOWAIT`, [ids]);
        expect(locked.rowCount).toBe(3);
      } finally {
        await sql.query('ROLLBACK');
      }
      release.open();
      await waitFor(async () => (await unpublished(ids)) === 0, { what: 'the events marked published' });
      expect(ids.every((id) => received.has(id))).toBe(true);
    } finally {
      release.open();
      spy.mockRestore();
    }
  });

  it('hole 7: two relays on one outbox publish every event at least once and lose none', async () => {
    const second = await startRelay();
    const [first] = relays;
    const ids = (await Promise.all([addEvents(first, 150), addEvents(second, 150)])).flat();
    first.outbox.flush();
    second.outbox.flush();
    await waitFor(async () => (await unpublished(ids)) === 0, { timeoutMs: 60_000, what: 'every event marked published' });
    await waitFor(() => ids.every((id) => received.has(id)), { what: 'every event received' });
    const duplicated = ids.filter((id) => received.get(id)! > 1).length;
    // At least once: a duplicate is allowed (consumers dedupe by id), a loss is not.
    expect({ sent: ids.length, found: ids.filter((id) => received.has(id)).length }).toEqual({ sent: 300, found: 300 });
    console.info(`outbox, two relays: sent ${ids.length}, found ${ids.filter((id) => received.has(id)).length}, duplicated ${duplicated}`);
  });

  it('hole 7: an event claimed by a relay that died is published again once its claim expires', async () => {
    const [relay] = relays;
    const [orphan] = await addEvents(relay, 1);
    // What a relay that claimed the row and then died leaves behind: a claim, no publication.
    await sql.query(`UPDATE outbox SET claimed_until = clock_timestamp() + interval '2 seconds' WHERE id = $1`, [orphan]);
    const [bystander] = await addEvents(relay, 1);
    relay.outbox.flush();
    await waitFor(() => received.has(bystander), { what: 'the unclaimed event' });
    expect(received.has(orphan)).toBe(false);
    await waitFor(() => received.has(orphan), { timeoutMs: 20_000, what: 'the orphaned event after its claim expired' });
    await waitFor(async () => (await unpublished([orphan])) === 0, { what: 'the orphaned event marked published' });
  });
});
