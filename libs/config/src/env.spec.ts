import { describe, expect, it } from '@jest/globals';
import { IsInt, Min } from 'class-validator';
import { BaseEnv, ConfigError, loadEnv } from './env.js';
import { Naming } from './naming.js';

class ServiceEnv extends BaseEnv {
  @IsInt()
  @Min(1)
  HTTP_PORT = 8080;
}

describe('loadEnv', () => {
  it('applies defaults when nothing is set', () => {
    const env = loadEnv(ServiceEnv, {});
    expect(env.HTTP_PORT).toBe(8080);
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.NAMESPACE).toBe('');
  });

  it('converts numbers from strings', () => {
    expect(loadEnv(ServiceEnv, { HTTP_PORT: '9090' }).HTTP_PORT).toBe(9090);
  });

  it('fails naming each bad variable and what it got', () => {
    let error: unknown;
    try {
      loadEnv(ServiceEnv, { HTTP_PORT: 'abc', DATABASE_URL: 'mysql://x', NODE_ENV: 'staging' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('HTTP_PORT');
    expect(message).toContain('"abc"');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('NODE_ENV');
  });

  it('never shows the value of a secret variable', () => {
    class SecretEnv extends BaseEnv {
      @Min(100)
      @IsInt()
      API_SECRET_KEY = 500;
    }
    expect(() => loadEnv(SecretEnv, { API_SECRET_KEY: '42' })).toThrow(/API_SECRET_KEY.*\*\*\*/);
  });
});

describe('Naming', () => {
  it('leaves names alone without a namespace', () => {
    const n = new Naming('');
    expect([n.schema('vote-consumer'), n.amqp('votes.rpc'), n.key('votes')]).toEqual(['vote_consumer', 'votes.rpc', 'votes']);
  });

  it('prefixes schemas, queues and keys with the namespace', () => {
    const n = new Naming('t1');
    expect([n.schema('votes'), n.amqp('votes.rpc'), n.key('votes')]).toEqual(['t1_votes', 't1.votes.rpc', 't1:votes']);
  });
});
