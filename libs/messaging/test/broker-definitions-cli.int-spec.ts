import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_USE, brokerPasswordKey } from '@flotilla/messaging';

/** The definitions CLI as Compose and the chart run it (built output, plain node). */
function run(env: Record<string, string>, ...args: string[]): { status: number | null; stderr: string; out: string } {
  const out = join(mkdtempSync(join(tmpdir(), 'flotilla-defs-')), 'definitions.json');
  const result = spawnSync(process.execPath, ['libs/messaging/dist/broker/definitions-cli.js', '--out', out, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  let written = '';
  try {
    written = readFileSync(out, 'utf8');
  } catch {
    // nothing written
  }
  return { status: result.status, stderr: result.stderr, out: written };
}

const passwords = (make: (service: string) => string): Record<string, string> => Object.fromEntries(BROKER_USE.map((u) => [brokerPasswordKey(u.service), make(u.service)]));

describe('definitions CLI (libs/messaging/dist/broker/definitions-cli.js)', () => {
  it('writes a user per service from the passwords in the environment', () => {
    const result = run({ NODE_ENV: 'production', ...passwords((s) => `secret-${s}-0123456789`) });
    expect(result.status).toBe(0);
    expect((JSON.parse(result.out) as { users: unknown[] }).users).toHaveLength(BROKER_USE.length);
    expect(result.out).not.toContain('secret-');
  });

  it('refuses a missing password', () => {
    const result = run({ NODE_ENV: 'production' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(brokerPasswordKey('gateway'));
  });

  it('refuses the public development passwords with NODE_ENV=production, given or by --dev', () => {
    const given = run({ NODE_ENV: 'production', ...passwords((s) => `flotilla-dev-rabbitmq-${s}`) });
    expect({ status: given.status, out: given.out }).toEqual({ status: 1, out: '' });
    expect(given.stderr).toContain('development');
    expect(run({ NODE_ENV: 'production' }, '--dev').status).toBe(1);
    expect(run({ NODE_ENV: 'development', ...passwords((s) => `flotilla-dev-rabbitmq-${s}`) }).status).toBe(0);
  });
});
