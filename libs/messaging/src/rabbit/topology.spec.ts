import { describe, expect, it } from '@jest/globals';
import { Naming } from '@flotilla/config';
import { topologyNames, topologyResources } from './topology.js';

describe('topologyNames', () => {
  it('prefixes every name with the namespace', () => {
    expect(topologyNames(new Naming('t1'), 'validator', 'validator')).toEqual({
      eventsExchange: 't1.flotilla.events',
      deadLetterExchange: 't1.flotilla.dlx',
      rpcQueue: 't1.validator.rpc',
      eventsQueue: 't1.validator.events',
      retryQueue: 't1.validator.events.retry',
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
      queues: ['t2.admin.rpc', 't2.admin.events', 't2.admin.events.retry', 't2.admin.events.dlq'],
      exchanges: ['t2.flotilla.events', 't2.flotilla.dlx'],
    });
  });
});
