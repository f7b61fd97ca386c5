import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import type { EventEnvelope } from '@flotilla/contracts';
import { currentContext, HealthRegistry, MetricsService, runWithContext } from '@flotilla/observability';
import { deleteAmqp, uniqueNamespace, waitFor } from '@flotilla/testing';
import type { GetMessage } from 'amqplib';
import { EventConsumer, EventPublisher, topologyNames, topologyResources } from '../src/index.js';
import { BrokerProbe, gate, startService, type Gate } from './rabbit-harness.js';

// The integration project's testTimeout in jest.config.mjs is not applied per project (Jest reads it globally).
jest.setTimeout(60_000);

const namespace = uniqueNamespace();
const naming = new Naming(namespace);
const validatorQueues = topologyNames(naming, 'validator');
const slowQueues = topologyNames(naming, 'admin');

const received: { envelope: EventEnvelope; contextId: string | undefined }[] = [];
const attempts = new Map<string, number>();
/** When each attempt of an event began. */
const attemptTimes = new Map<string, number[]>();
const countAttempt = (id: string): number => {
  const n = (attempts.get(id) ?? 0) + 1;
  attempts.set(id, n);
  attemptTimes.set(id, [...(attemptTimes.get(id) ?? []), performance.now()]);
  return n;
};

const subscriptions = {
  provide: 'TEST_SUBSCRIPTIONS',
  inject: [EventConsumer],
  useFactory: async (events: EventConsumer) => {
    await events.subscribe(['dataset.uploaded'], async (envelope) => {
      received.push({ envelope, contextId: currentContext()?.correlationId });
    });
    await events.subscribe(['flaky.*'], async (envelope) => {
      if (countAttempt(envelope.id) === 1) throw new Error('transient failure');
    });
    // Its database is away for its first five attempts, more than the consumer's three.
    await events.subscribe(['outage.*'], async (envelope) => {
      if (countAttempt(envelope.id) <= 5) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    await events.subscribe(['poison.#'], async (envelope) => {
      countAttempt(envelope.id);
      throw new Error('cannot process poison');
    });
    // Not the consumer itself: Nest would run its lifecycle hooks a second time.
    return true;
  },
};

describe('RabbitMQ events', () => {
  let publisherApp: INestApplicationContext;
  let consumerApp: INestApplicationContext;
  let publisher: EventPublisher;
  let probe: BrokerProbe;
  /** Dead letters read so far (reading takes them off the DLQ). */
  const deadLetters: GetMessage[] = [];
  // waitFor only resolves with a truthy value, though its type keeps `undefined`.
  const deadLetterOf = async (predicate: (m: GetMessage) => boolean, what: string): Promise<GetMessage> =>
    (await waitFor(
      async () => {
        deadLetters.push(...(await probe.takeAll(validatorQueues.deadLetterQueue)));
        return deadLetters.find(predicate);
      },
      { what },
    )) as GetMessage;

  /** Events waiting in any retry tier. */
  const retrying = async (): Promise<number> => {
    let waiting = 0;
    for (const queue of validatorQueues.retryQueues) waiting += await probe.depth(queue);
    return waiting;
  };

  beforeAll(async () => {
    probe = await BrokerProbe.open();
    consumerApp = await startService(namespace, { service: 'validator', maxAttempts: 3, retryDelayMs: 100 }, [subscriptions]);
    publisherApp = await startService(namespace, { service: 'upload' });
    publisher = publisherApp.get(EventPublisher);
  });

  afterAll(async () => {
    await publisherApp?.close();
    await consumerApp?.close();
    await probe?.close();
    const names = [topologyResources(naming, 'validator'), topologyResources(naming, 'upload'), topologyResources(naming, 'admin')];
    await deleteAmqp(
      [...new Set(names.flatMap((n) => n.queues))],
      [...new Set(names.flatMap((n) => n.exchanges))],
    );
  });

  it('delivers a published event with its envelope and correlation id', async () => {
    const envelope = await runWithContext({ correlationId: 'evt-corr-1' }, () =>
      publisher.publish('dataset.uploaded', { datasetId: 'd-1', files: 2 }),
    );
    expect(envelope).toMatchObject({ type: 'dataset.uploaded', source: 'upload', correlationId: 'evt-corr-1' });
    const got = (await waitFor(() => received.find((r) => r.envelope.id === envelope.id), { what: 'the event' })) as (typeof received)[number];
    expect(got.envelope).toEqual(envelope);
    expect(got.contextId).toBe('evt-corr-1');
    expect(Date.parse(got.envelope.occurredAt)).not.toBeNaN();
  });

  it('acks handled events: nothing stays in the queue', async () => {
    await waitFor(async () => (await probe.depth(validatorQueues.eventsQueue)) === 0, { what: 'an empty queue' });
    // Nothing unacked either: the readiness check sees a consuming, connected service.
    const check = new Map(consumerApp.get(HealthRegistry).entries()).get('rabbitmq');
    await expect(check?.()).resolves.toBeUndefined();
  });

  it('retries a failed event after the delay and then succeeds', async () => {
    const envelope = await publisher.publish('flaky.once', { n: 1 });
    await waitFor(() => attempts.get(envelope.id) === 2, { what: 'the second attempt' });
    await waitFor(async () => (await retrying()) === 0 && (await probe.depth(validatorQueues.eventsQueue)) === 0, {
      what: 'empty queues',
    });
    expect(attempts.get(envelope.id)).toBe(2);
  });

  it('retries an event whose dependency is not reachable without counting attempts, for as long as it takes', async () => {
    const envelope = await publisher.publish('outage.db', { n: 1 });
    await waitFor(() => attempts.get(envelope.id) === 6, { what: 'the sixth attempt, once the database is back' });
    await waitFor(async () => (await retrying()) === 0 && (await probe.depth(validatorQueues.eventsQueue)) === 0, {
      what: 'empty queues',
    });
    expect(attempts.get(envelope.id)).toBe(6);
    expect(await probe.takeAll(validatorQueues.deadLetterQueue)).toEqual([]);
  });

  it('dead-letters an event that fails every attempt, with the error recorded', async () => {
    const envelope = await publisher.publish('poison.pill', { bad: true });
    const dead = await deadLetterOf((m) => JSON.parse(m.content.toString()).id === envelope.id, 'the dead letter');
    expect(attempts.get(envelope.id)).toBe(3);
    // Backoff: the first retry waited one retry delay (100 ms), the second two.
    const [first, second, third] = attemptTimes.get(envelope.id)!;
    expect(second! - first!).toBeGreaterThanOrEqual(95);
    expect(third! - second!).toBeGreaterThanOrEqual(195);
    expect(JSON.parse(dead.content.toString())).toEqual(envelope);
    const headers = dead.properties.headers ?? {};
    expect(String(headers['x-error'])).toContain('cannot process poison');
    expect(headers['x-retry-count']).toBe(2);
    expect(headers['x-original-routing-key']).toBe('poison.pill');
    expect(dead.properties.messageId).toBe(envelope.id);
    // Not retried again after it was dead-lettered.
    expect(await retrying()).toBe(0);
    // The dead letter is confirmed before the counter moves, so wait for the counter.
    const line = `dead_letters_total{queue="${validatorQueues.eventsQueue}"} 1`;
    const metric = await waitFor(
      async () => {
        const text = await consumerApp.get(MetricsService).registry.getSingleMetricAsString('dead_letters_total');
        return text.includes(line) ? text : undefined;
      },
      { what: 'dead_letters_total to count the dead letter' },
    );
    expect(metric).toContain(line);
  });

  it('dead-letters a malformed message at once, saying why', async () => {
    await probe.publish(validatorQueues.eventsExchange, 'dataset.uploaded', Buffer.from('not an envelope'));
    const dead = await deadLetterOf((m) => m.content.toString() === 'not an envelope', 'the malformed message');
    expect(String(dead.properties.headers?.['x-error'])).toMatch(/^not an event envelope/);
    expect(dead.properties.headers?.['x-original-routing-key']).toBe('dataset.uploaded');
  });

  it('finishes an event in flight when shutdown begins and acks it', async () => {
    const release: Gate = gate();
    let handlerStarted = false;
    let handlerDone = false;
    const slow = await startService(namespace, { service: 'admin' }, [
      {
        provide: 'SLOW_SUBSCRIPTION',
        inject: [EventConsumer],
        useFactory: async (events: EventConsumer) => {
          await events.subscribe(['slow.work'], async () => {
            handlerStarted = true;
            await release.promise;
            handlerDone = true;
          });
          return true;
        },
      },
    ]);
    await publisher.publish('slow.work', {});
    await waitFor(() => handlerStarted, { what: 'the handler to start' });
    const closing = slow.close();
    await waitFor(() => !slow.get(EventConsumer).isConsuming(), { what: 'the consumer to be cancelled' });
    release.open();
    await closing;
    expect(handlerDone).toBe(true);
    // Acked before the channel closed, so it was not handed back to the queue.
    expect(await probe.depth(slowQueues.eventsQueue)).toBe(0);
  });
});
