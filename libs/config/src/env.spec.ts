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

describe('credentials in configuration', () => {
  const message = (source: Record<string, string>): string => {
    try {
      loadEnv(ServiceEnv, source);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };
  const OWN = { DATABASE_URL: 'postgres://flotilla:Vq3-own-db-pass@db:5432/flotilla', AMQP_URL: 'amqp://flotilla:Vq3-own-broker-pass@rabbitmq:5672', INTERNAL_TOKEN_SECRET: 'x'.repeat(40) };

  it('never prints the credentials of a malformed URL', () => {
    const said = message({ DATABASE_URL: 'mysql://app:hunter2@db/x', AMQP_URL: 'http://guest:letmein@broker', REDIS_URL: 'tcp://:redispw@cache' });
    for (const name of ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL']) expect(said).toContain(name);
    expect(said).toContain('mysql://***@db/x');
    expect(said).not.toMatch(/hunter2|letmein|redispw/);
  });

  it.each([
    ['AMQP_URL', undefined],
    ['AMQP_URL', 'amqp://guest:guest@rabbitmq:5672'],
    ['AMQP_URL', 'amqps://guest:other@rabbitmq:5671'],
    ['AMQP_URL', 'amqp://rabbitmq:5672'],
    ['AMQP_URL', 'amqp://flotilla:flotilla-dev-rabbitmq@rabbitmq:5672'],
    ['AMQP_URL', 'amqp://flotilla-upload:flotilla-dev-rabbitmq-upload@rabbitmq:5672'],
    ['DATABASE_URL', undefined],
    ['DATABASE_URL', 'postgres://postgres@db:5432/flotilla'],
    ['DATABASE_URL', 'postgresql://postgres:postgres@db/flotilla'],
    ['DATABASE_URL', 'postgres://flotilla:flotilla-dev-postgres@postgres:5432/flotilla'],
  ])('production refuses %s with default credentials (%s), naming it without printing them', (name, value) => {
    const source: Record<string, string> = { ...OWN, NODE_ENV: 'production' };
    if (value === undefined) delete source[name];
    else source[name] = value;
    const said = message(source);
    expect(said).toContain(name);
    expect(said).toMatch(/non-default credentials when NODE_ENV=production/);
    expect(said).not.toMatch(/guest|:postgres@|flotilla-dev-/);
  });

  it('production accepts credentials of its own; development the defaults', () => {
    expect(message({ ...OWN, NODE_ENV: 'production' })).toBe('');
    expect(message({ NODE_ENV: 'development' })).toBe('');
    expect(message({ NODE_ENV: 'test' })).toBe('');
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
