import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isSecretName, type BaseEnv } from '@flotilla/config';
import { dropSchemas, deleteKeys, freePort, TEST_AMQP_URL, TEST_DATABASE_URL, testEnv, uniqueNamespace } from '@flotilla/testing';
import { AdminEnv } from '../../services/admin/src/admin.env.js';
import { GatewayEnv } from '../../services/gateway/src/gateway.env.js';
import { ProvisionerEnv } from '../../services/provisioner/src/provisioner.env.js';
import { UploadEnv } from '../../services/upload/src/upload.env.js';
import { ValidatorEnv } from '../../services/validator/src/validator.env.js';
import { VoteConsumerEnv } from '../../services/vote-consumer/src/vote-consumer.env.js';
import { ProductionCredentials } from './support/production-credentials.js';

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

/** How long a process may take to exit or be ready: a dozen starting at once on a small, busy machine take their time. */
const START_TIMEOUT_MS = 90_000;

interface Run {
  code: number | null;
  output: string;
  started: boolean;
}

/** Runs a service until it exits, or until it is ready (then stops it). */
async function run(service: string, env: Record<string, string>, timeoutMs = START_TIMEOUT_MS): Promise<Run> {
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
  // The shared servers reached with credentials of their own: production refuses the default ones.
  let own: ProductionCredentials;
  const baseEnv = (): Record<string, string> => {
    const ns = uniqueNamespace();
    namespaces.push(ns);
    return testEnv(ns, { NODE_ENV: 'production', LOG_LEVEL: 'info', ADMIN_EMAIL: 'admin@production.test', DATABASE_URL: own.DATABASE_URL, AMQP_URL: own.AMQP_URL });
  };

  beforeAll(async () => {
    own = await ProductionCredentials.create();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(namespaces.flatMap((ns) => [dropSchemas(ns), deleteKeys(ns)]));
    await own?.drop();
  }, 60_000);

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
  }, 2 * START_TIMEOUT_MS + 10_000);

  it.concurrent.each(SERVICES.map(([s, Env]) => [s, secretsOf(Env).map(([n]) => n)] as const))('%s does not refuse to start in production once its secrets are its own', async (service, names) => {
    // The embedded S3's secret is refused in production; the real servers answer the rest.
    const result = await run(service, { ...baseEnv(), ...Object.fromEntries(names.map((n) => [n, strong()])), S3_ENDPOINT: 'http://127.0.0.1:1' }, 20_000);
    console.log(`production, ${service} with its own secrets: ${result.started ? 'started' : `exit ${result.code}`}`);
    expect(result.code).not.toBe(78);
    expect(result.output).not.toMatch(/Invalid environment/);
    if (names.length === 0) expect(result.started).toBe(true);
  }, 60_000);

  /** Every secret of a service set to a value of its own. */
  const ownSecrets = (Env: new () => BaseEnv): Record<string, string> => Object.fromEntries(secretsOf(Env).map(([n]) => [n, strong()]));

  it.concurrent.each(SERVICES.flatMap(([service, Env]) => [
    [service, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', Env],
    [service, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/postgres', Env],
  ] as const))('%s with the default %s (%s) exits 78, naming it without printing the credentials', async (service, name, value, Env) => {
    const result = await run(service, { ...baseEnv(), ...ownSecrets(Env), [name]: value });
    const said = result.output.split('\n').find((l) => l.includes(name)) ?? '';
    console.log(`production, ${service} with the default ${name}: exit ${result.code}; says ${JSON.stringify(JSON.parse(said || '{}').msg ?? said).slice(0, 200)}`);
    expect({ code: result.code, started: result.started }).toEqual({ code: 78, started: false });
    expect(said).toMatch(/non-default credentials when NODE_ENV=production/);
    expect(result.output).not.toMatch(/guest:guest|postgres@/);
  }, START_TIMEOUT_MS + 10_000);

  it('prints a malformed DATABASE_URL, AMQP_URL or REDIS_URL without its credentials', async () => {
    const result = await run('gateway', { ...baseEnv(), ...ownSecrets(GatewayEnv), DATABASE_URL: 'mysql://app:db-hunter2@db/x', AMQP_URL: 'http://svc:amqp-hunter2@broker', REDIS_URL: 'tcp://:redis-hunter2@cache' });
    console.log(`malformed URLs: exit ${result.code}; says ${result.output.split('\n').find((l) => l.includes('DATABASE_URL'))?.slice(0, 400)}`);
    expect(result.code).toBe(78);
    for (const name of ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL']) expect(result.output).toContain(name);
    expect(result.output).toContain('mysql://***@db/x');
    expect(result.output).not.toMatch(/hunter2/);
  }, START_TIMEOUT_MS + 10_000);

  it('logs connection failures without the credentials of the URLs', async () => {
    // Reachable nowhere, with credentials of their own: the services log their failures.
    const dead = await freePort();
    const env = { ...testEnv(uniqueNamespace(), { LOG_LEVEL: 'debug' }), ...ownSecrets(GatewayEnv), DATABASE_URL: `postgres://svc:pg-s3cr3t-value@127.0.0.1:${dead}/x`, AMQP_URL: `amqp://svc:amqp-s3cr3t-value@127.0.0.1:${dead}`, REDIS_URL: `redis://:redis-s3cr3t-value@127.0.0.1:${dead}` };
    const result = await run('gateway', env, 45_000);
    const lines = result.output.split('\n').filter(Boolean);
    console.log(`connection failures: ${lines.length} log lines, ${lines.filter((l) => l.includes(String(dead))).length} naming the dead port; exit ${result.code}`);
    expect(lines.some((l) => l.includes(String(dead)))).toBe(true);
    expect(result.output).not.toMatch(/s3cr3t-value/);
  }, 90_000);

  it('the shared servers are reached with credentials production accepts', () => {
    console.log(`test servers: DATABASE_URL ${TEST_DATABASE_URL === own.DATABASE_URL ? 'as given' : 'with a role of its own'}, AMQP_URL ${TEST_AMQP_URL === own.AMQP_URL ? 'as given' : 'with a user of its own'}`);
    expect(own.DATABASE_URL).not.toMatch(/\/\/postgres@|guest/);
  });
});
