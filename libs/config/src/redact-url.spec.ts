import { describe, expect, it } from '@jest/globals';
import { redactUrl, redactUrlsIn } from './redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672', 'amqp://***@127.0.0.1:5672'],
    ['postgres://app:s3cr%40t@db:5432/flotilla', 'postgres://***@db:5432/flotilla'],
    // Malformed: the password holds an unescaped "/" and "@".
    ['postgres://app:pa/ss@word@db/x', 'postgres://***@db/x'],
    ['rediss://:only-a-password@cache:6380', 'rediss://***@cache:6380'],
    ['https://token@example.test/repo', 'https://***@example.test/repo'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['not a url', 'not a url'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('redactUrlsIn', () => {
  it('redacts every URL of a message, inside JSON too', () => {
    const text = `connect ECONNREFUSED for amqp://guest:guest@broker:5672 and {"url":"postgres://app:pw@db/x","other":"redis://cache"}`;
    const redacted = redactUrlsIn(text);
    expect(redacted).toBe('connect ECONNREFUSED for amqp://***@broker:5672 and {"url":"postgres://***@db/x","other":"redis://cache"}');
    expect(redacted).not.toMatch(/guest|pw@/);
  });

  it('leaves text without URLs as it is', () => {
    const text = 'user@example.test logged in';
    expect(redactUrlsIn(text)).toBe(text);
  });
});
