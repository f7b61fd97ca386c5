import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isSecretName, type BaseEnv } from '@flotilla/config';
import { dropSchemas, deleteKeys, freePort, testEnv, uniqueNamespace } from '@flotilla/testing';
import { AdminEnv } from '../../services/admin/src/admin.env.js';
import { GatewayEnv } from '../../services/gateway/src/gateway.env.js';
import { ProvisionerEnv } from '../../services/provisioner/src/provisioner.env.js';
import { UploadEnv } from '../../services/upload/src/upload.env.js';
import { ValidatorEnv } from '../../services/validator/src/validator.env.js';
import { VoteConsumerEnv } from '../../services/vote-consumer/src/vote-consumer.env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Each service with the class that declares its environment: its secrets are found there, not listed here. */
const SERVICES: [string, new () => BaseEnv][] = [
  ['gateway', GatewayEnv],
  ['upload', UploadEnv],
  ['validator', ValidatorEnv],
  ['vote-consumer', VoteConsumerEnv],
  ['provisioner', ProvisionerEnv],
  ['admin', AdminEnv],
];

/** Secrets by their name, as the config library redacts them; an access key *id* is an identifier, not a secret. */
const secretsOf = (Env: new () => BaseEnv): [string, string][] =>
  Object.entries(new Env() as unknown as Record<string, unknown>)
    .filter(([name, value]) => isSecretName(name) && !/_ID$/.test(name) && typeof value === 'string')
    .map(([name, value]) => [name, value as string]);

interface Run {
  code: number | null;
  output: string;
  started: boolean;
}

/** Runs a service until it exits, or until it is ready (then stops it). */
async function run(service: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Run> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${ROOT}services/${service}/dist/main.js`], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, HTTP_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  let started = false;
  while (Date.now() < deadline && child.exitCode === null && !started) {
    started = await fetch(`http://127.0.0.1:${port}/health/startup`).then((r) => r.status === 200, () => false);
    if (!started) await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
  }
  if (child.exitCode === null) child.kill('SIGTERM');
  const code = await exited;
  return { code: started ? null : code, output, started };
}

describe('production mode refuses default secrets', () => {
  const namespaces: string[] = [];
  const strong = (): string => randomBytes(24).toString('hex');
  const baseEnv = (): Record<string, string> => {
    const ns = uniqueNamespace();
    namespaces.push(ns);
    return testEnv(ns, { NODE_ENV: 'production', LOG_LEVEL: 'info', ADMIN_EMAIL: 'admin@production.test' });
  };

  afterAll(async () => {
    await Promise.allSettled(namespaces.flatMap((ns) => [dropSchemas(ns), deleteKeys(ns)]));
  });

  const cases = SERVICES.flatMap(([service, Env]) => secretsOf(Env).map(([name, fallback]) => [service, name, fallback, secretsOf(Env).map(([n]) => n)] as const));

  it('finds the secrets of every service from its environment class', () => {
    const found = SERVICES.map(([service, Env]) => `${service}: ${secretsOf(Env).map(([n]) => n).join(', ') || 'none'}`);
    console.log(`secrets with a default, by service — ${found.join('; ')}`);
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  it.concurrent.each(cases)('%s with %s left at its default exits 78, naming it without printing it', async (service, name, fallback, all) => {
    const others = Object.fromEntries(all.filter((n) => n !== name).map((n) => [n, strong()]));
    const unset = await run(service, { ...baseEnv(), ...others });
    const explicit = await run(service, { ...baseEnv(), ...others, [name]: fallback });
    for (const result of [unset, explicit]) {
      expect({ code: result.code, started: result.started }).toEqual({ code: 78, started: false });
      expect(result.output).toContain(name);
      expect(result.output).toMatch(/non-default|production/);
      expect(result.output).not.toContain(fallback);
      for (const value of Object.values(others)) expect(result.output).not.toContain(value);
    }
    const line = unset.output.split('\n').find((l) => l.includes(name)) ?? '';
    console.log(`production, ${service} with the default ${name}: exit ${unset.code} (unset) / ${explicit.code} (set to the default); says ${JSON.stringify(JSON.parse(line).msg ?? line).slice(0, 160)}`);
  });

  it.concurrent.each(SERVICES.map(([s, Env]) => [s, secretsOf(Env).map(([n]) => n)] as const))('%s does not refuse to start in production once its secrets are its own', async (service, names) => {
    // The embedded S3's secret is refused in production; the real servers answer the rest.
    const result = await run(service, { ...baseEnv(), ...Object.fromEntries(names.map((n) => [n, strong()])), S3_ENDPOINT: 'http://127.0.0.1:1' }, 20_000);
    console.log(`production, ${service} with its own secrets: ${result.started ? 'started' : `exit ${result.code}`}`);
    expect(result.code).not.toBe(78);
    expect(result.output).not.toMatch(/Invalid environment/);
    if (names.length === 0) expect(result.started).toBe(true);
  }, 60_000);
});
