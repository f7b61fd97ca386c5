import { describe, expect, it } from '@jest/globals';
import { Naming } from '@flotilla/config';
import { retryDelay, retryTier, topologyNames, topologyResources } from './topology.js';

describe('topologyNames', () => {
  it('prefixes every name with the namespace', () => {
    expect(topologyNames(new Naming('t1'), 'validator', 'validator')).toEqual({
      eventsExchange: 't1.flotilla.events',
      deadLetterExchange: 't1.flotilla.dlx',
      rpcQueue: 't1.validator.rpc',
      eventsQueue: 't1.validator.events',
      retryQueues: ['t1.validator.events.retry', 't1.validator.events.retry.2x', 't1.validator.events.retry.4x', 't1.validator.events.retry.8x'],
      deadLetterQueue: 't1.validator.events.dlq',
    });
  });

  it('names the RPC queue after the served service, not the process', () => {
    expect(topologyNames(new Naming(''), 'vote-consumer', 'votes').rpcQueue).toBe('votes.rpc');
    expect(topologyNames(new Naming(''), 'gateway').rpcQueue).toBeUndefined();
  });
});

describe('topologyResources', () => {
  it('lists every queue and exchange for clean-up', () => {
    expect(topologyResources(new Naming('t2'), 'admin', 'admin')).toEqual({
      queues: ['t2.admin.rpc', 't2.admin.events', 't2.admin.events.retry', 't2.admin.events.retry.2x', 't2.admin.events.retry.4x', 't2.admin.events.retry.8x', 't2.admin.events.dlq'],
      exchanges: ['t2.flotilla.events', 't2.flotilla.dlx'],
    });
  });
});

describe('retry delays', () => {
  it('double for each retry up to eight retry delays, then stay there', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => retryTier(n))).toEqual([0, 1, 2, 3, 3, 3]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(500, n))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(retryTier(0)).toBe(0);
  });
});
