import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Naming } from '@flotilla/config';
import { BROKER_USE, brokerUser, rabbitmqDefinitions } from '@flotilla/messaging';
import { PrivateRabbitMQ, waitFor } from '@flotilla/testing';
import { ADMIN, Platform, type ServiceName } from './support/platform.js';

const ALL: ServiceName[] = ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'];

/**
 * The whole platform on a broker of its own where each service logs in as its own user
 * with the generated definitions (as Compose and the chart run it): every service starts,
 * a vote goes through the gateway's RPC and the consumer, the admin reaches every service.
 */
describe('the platform with one broker user per service', () => {
  const broker = new PrivateRabbitMQ();
  const passwords = Object.fromEntries(BROKER_USE.map((u) => [u.service, `e2e-${u.service}-${Math.random().toString(36).slice(2)}`]));
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    await broker.start();
    platform = new Platform({ SIMULATED_POD_START_MS: '100', SIMULATED_POD_READY_MS: '100' }, ALL, {
      startTimeoutMs: 120_000,
      envOf: (name) => ({ AMQP_URL: `amqp://${brokerUser(new Naming(platform.namespace), name)}:${passwords[name]}@127.0.0.1:${broker.port}` }),
    });
    const file = join(tmpdir(), `flotilla-e2e-definitions-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(rabbitmqDefinitions({ namespace: platform.namespace, passwords })));
    await broker.ctl('import_definitions', file);
    await platform.start();
    token = await platform.api.login(ADMIN.email, ADMIN.password);
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await broker.remove();
  });

  it('counts a vote: gateway → votes RPC, stream, consumer', async () => {
    const vote = await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token, body: { option: 'dogs' } });
    expect(vote.status).toBe(202);
    await waitFor(async () => {
      const r = await platform.api.request<{ total: number }>('GET', '/api/v1/polls/cats-vs-dogs/results', { token });
      return r.body.total === 1 ? true : undefined;
    }, { what: 'the vote to be counted' });
  });

  it('lets the admin service reach every service (RPC, queue depth, heartbeats)', async () => {
    const stats = await platform.api.request<{ unavailable: string[]; queues: { validation: number | null } }>('GET', '/api/v1/admin/stats', { token });
    expect(stats.status).toBe(200);
    expect(stats.body.unavailable).toEqual([]);
    expect(stats.body.queues.validation).toBe(0);
    await waitFor(async () => {
      const r = await platform.api.request<{ items: { service: string; status: string }[] }>('GET', '/api/v1/admin/services', { token });
      return ALL.every((s) => r.body.items.some((i) => i.service === s && i.status === 'up')) ? true : undefined;
    }, { what: 'every service up by its heartbeats', timeoutMs: 30_000 });
  });

  it('runs without a single refused broker operation, each service connected as its own user', async () => {
    const users = (await broker.ctl('list_connections', 'user', '-q', '--no-table-headers')).split('\n').map((l) => l.trim());
    for (const name of ALL) expect(users).toContain(brokerUser(new Naming(platform.namespace), name));
    expect(users.filter((u) => u && !u.startsWith(`${platform.namespace}.flotilla-`))).toEqual([]);
    for (const service of platform.services) expect({ service: service.label, refused: /ACCESS_REFUSED|ACCESS-REFUSED/.test(service.logs()) }).toEqual({ service: service.label, refused: false });
  });
});
