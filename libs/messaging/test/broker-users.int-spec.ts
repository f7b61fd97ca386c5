import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Naming } from '@flotilla/config';
import { PrivateRabbitMQ } from '@flotilla/testing';
import { BROKER_USE, brokerUser, declareDeadLetterQueues, declareTopology, rabbitmqDefinitions, REPLY_TO, topologyNames, type BrokerUse } from '@flotilla/messaging';

/**
 * The generated definitions, imported into a broker of the test's own, do what they
 * promise: each service's user can do its own work and is refused another's.
 */
const naming = new Naming('');
const passwords = Object.fromEntries(BROKER_USE.map((u) => [u.service, `pw-${u.service}-${Math.random().toString(36).slice(2)}`]));
const broker = new PrivateRabbitMQ();
const connections: ChannelModel[] = [];

/** The error RabbitMQ closes the channel with when `attempt` runs on a fresh channel; undefined when it succeeds. */
async function refusal(connection: ChannelModel, attempt: (channel: Channel) => Promise<unknown>): Promise<string | undefined> {
  const channel = await connection.createConfirmChannel();
  let closed: Error | undefined;
  channel.on('error', (error: Error) => (closed = error));
  try {
    await attempt(channel);
    await channel.waitForConfirms();
    // A refused publish closes the channel asynchronously: a round trip makes sure it would have arrived.
    await channel.checkExchange('amq.topic');
  } catch (error) {
    closed ??= error as Error;
  }
  if (!closed) await channel.close();
  return closed ? closed.message : undefined;
}

function publishTo(exchange: string, routingKey: string): (channel: Channel) => Promise<unknown> {
  return async (channel) => channel.publish(exchange, routingKey, Buffer.from('{}'));
}

async function connectAs(use: BrokerUse): Promise<ChannelModel> {
  const connection = await amqp.connect(`amqp://${brokerUser(naming, use.service)}:${passwords[use.service]}@127.0.0.1:${broker.port}`);
  connection.on('error', () => undefined);
  connections.push(connection);
  return connection;
}

function other(use: BrokerUse): BrokerUse {
  return BROKER_USE.find((u) => u.service !== use.service && u.serve && u.service !== 'admin')!;
}

describe('per-service broker users (generated definitions)', () => {
  beforeAll(async () => {
    await broker.start();
    const file = join(tmpdir(), `flotilla-definitions-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(rabbitmqDefinitions({ passwords })));
    await broker.ctl('import_definitions', file);
    // Every service's queues exist, as on a running platform.
    const guest = await amqp.connect(broker.url);
    const channel = await guest.createChannel();
    for (const use of BROKER_USE) await declareTopology(channel, naming, { service: use.service, serve: use.serve, events: { routingKeys: ['dataset.ready'], retryDelayMs: 1000 } });
    await guest.close();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await broker.remove();
  });

  it('refuses a wrong password', async () => {
    await expect(amqp.connect(`amqp://${brokerUser(naming, 'gateway')}:wrong@127.0.0.1:${broker.port}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it.each(BROKER_USE.map((use) => [use.service, use] as const))('%s declares and consumes its own queues and publishes where it must', async (_name, use) => {
    const connection = await connectAs(use);
    const names = topologyNames(naming, use.service, use.serve);
    expect(await refusal(connection, (c) => declareTopology(c, naming, { service: use.service, serve: use.serve, events: { routingKeys: ['dataset.ready'], retryDelayMs: 1000 } }))).toBeUndefined();
    for (const queue of [names.eventsQueue, names.deadLetterQueue, ...(names.rpcQueue ? [names.rpcQueue] : [])]) {
      expect(await refusal(connection, (c) => c.consume(queue, () => undefined))).toBeUndefined();
    }
    // Events (and heartbeats), its dead letters, retries and RPC replies through the default exchange.
    expect(await refusal(connection, publishTo(names.eventsExchange, 'dataset.ready'))).toBeUndefined();
    expect(await refusal(connection, publishTo(names.deadLetterExchange, names.deadLetterQueue))).toBeUndefined();
    expect(await refusal(connection, publishTo('', names.retryQueues[0]!))).toBeUndefined();
    for (const target of use.calls) {
      expect(await refusal(connection, publishTo('', naming.amqp(`${target}.rpc`)))).toBeUndefined();
    }
    expect(await refusal(connection, (c) => c.consume(REPLY_TO, () => undefined, { noAck: true }))).toBeUndefined();
    if (use.operator) {
      // Admin collects every dead-letter queue, reads the validation queue's depth and replays letters to their queue.
      expect(await refusal(connection, (c) => declareDeadLetterQueues(c, naming))).toBeUndefined();
      for (const service of BROKER_USE.map((u) => u.service)) {
        expect(await refusal(connection, (c) => c.get(topologyNames(naming, service).deadLetterQueue))).toBeUndefined();
      }
      expect(await refusal(connection, (c) => c.checkQueue(topologyNames(naming, 'validator').eventsQueue))).toBeUndefined();
      expect(await refusal(connection, publishTo('', topologyNames(naming, 'upload').eventsQueue))).toBeUndefined();
    }
  });

  it.each(BROKER_USE.map((use) => [use.service, use] as const))("%s is refused another service's queues and exchanges it does not use", async (_name, use) => {
    const connection = await connectAs(use);
    const theirs = topologyNames(naming, other(use).service, other(use).serve);
    const denied = /ACCESS_REFUSED/;
    // Consume, read or empty another service's queues.
    expect(await refusal(connection, (c) => c.consume(theirs.rpcQueue!, () => undefined))).toMatch(denied);
    expect(await refusal(connection, (c) => c.get(theirs.eventsQueue))).toMatch(denied);
    expect(await refusal(connection, (c) => c.purgeQueue(theirs.rpcQueue!))).toMatch(denied);
    // Declare, delete or bind them.
    expect(await refusal(connection, (c) => c.assertQueue(naming.amqp(`${other(use).service}.sneaky`), { durable: true }))).toMatch(denied);
    expect(await refusal(connection, (c) => c.deleteQueue(theirs.eventsQueue))).toMatch(denied);
    expect(await refusal(connection, (c) => c.bindQueue(theirs.eventsQueue, theirs.eventsExchange, 'store.#'))).toMatch(denied);
    // Publish to exchanges it does not use.
    expect(await refusal(connection, publishTo('amq.topic', 'anything'))).toMatch(denied);
    expect(await refusal(connection, publishTo('amq.direct', theirs.rpcQueue!))).toMatch(denied);
    if (!use.operator) expect(await refusal(connection, (c) => c.consume(theirs.deadLetterQueue, () => undefined))).toMatch(denied);
  });
});
