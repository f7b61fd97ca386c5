import { describe, expect, it } from '@jest/globals';
import { createLogger, PinoNestLogger } from './logger.js';

function capture(): { lines: string[]; write: (line: string) => void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

describe('createLogger', () => {
  it('never writes the credentials of a URL, wherever the URL is in the line', () => {
    const out = capture();
    const log = createLogger('test', 'info', out);
    const error = new Error('getaddrinfo ENOTFOUND for postgres://app:hunter2@db:5432/flotilla');
    log.error({ err: error, target: 'amqp://guest:guest@rabbitmq:5672', nested: { url: 'redis://:redispw@cache:6379' } }, 'cannot connect to amqps://svc:s3cr3t@broker/vhost');
    new PinoNestLogger(log).warn('connection to postgresql://app:hunter2@db/x lost', 'Persistence');
    const text = out.lines.join('');
    expect(out.lines).toHaveLength(2);
    expect(text).not.toMatch(/hunter2|guest:guest|redispw|s3cr3t/);
    expect(text).toContain('postgres://***@db:5432/flotilla');
    expect(text).toContain('amqps://***@broker/vhost');
    // The rest of each line is still JSON.
    for (const line of out.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
