import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateRedis, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

describe('Redis outage', () => {
  const redis = new PrivateRedis();
  let platform: Platform;
  let token: string;

  beforeAll(async () => {
    await redis.start();
    platform = new Platform({ REDIS_URL: redis.url });
    await platform.start();
    token = await platform.api.login(ADMIN.email, ADMIN.password);
    // Warm the gateway's poll cache so the outage is the only thing that changes.
    expect((await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token, body: { option: 'dogs' } })).status).toBe(202);
  });

  afterAll(async () => {
    await platform.stop();
    await redis.stop();
  });

  it('votes answer 503 at once while Redis is down, readiness names redis, and both recover without a restart', async () => {
    await redis.stop();
    const started = Date.now();
    const during = await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token, body: { option: 'cats' } });
    const answeredInMs = Date.now() - started;
    expect(during.status).toBe(503);
    expect(during.headers.get('content-type')).toContain('application/problem+json');
    // "At once": well below any client timeout, not a hang until a reconnect gives up.
    expect(answeredInMs).toBeLessThan(2000);

    const ready = await fetch(`${platform.gateway.url}/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error)).toEqual(['redis']);

    await redis.start();
    const after = await waitFor(
      async () => {
        const res = await platform.api.request('POST', '/api/v1/polls/cats-vs-dogs/votes', { token, body: { option: 'cats' } });
        return res.status === 202 ? res : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'votes to be accepted again' },
    );
    expect(after.body).toMatchObject({ pollId: 'cats-vs-dogs', option: 'cats' });
    await waitFor(async () => (await fetch(`${platform.gateway.url}/health/ready`)).status === 200, { what: 'readiness to recover' });
  });
});
