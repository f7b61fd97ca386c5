import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSecretName } from '@flotilla/config';
import { readYaml } from './support/manifests.js';
import { ROOT, SERVICES } from './support/paths.js';
import { serviceEnvs, type ServiceEnv } from './support/env.js';

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

/** The Dockerfile's stages with their instructions (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    if (op.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name: name ?? `#${stages.length}`, from, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** The last value of `op` in `stage` or the stages it is built FROM in this file. */
function effective(stages: Stage[], stage: Stage, op: string): string | undefined {
  for (let s: Stage | undefined = stage; s; s = stages.find((x) => x.name === s!.from)) {
    const found = s.instructions.filter((i) => i.op === op).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

/** Docker Compose's interpolation with nothing set: `${X:-d}` → d, `${X:?m}` → required, `$$` → `$`. */
function interpolate(value: string): { value: string; required: string[] } {
  const required: string[] = [];
  const out = value.replace(/\$\$|\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === '$$') return '$';
    if (op === '?') {
      required.push(name!);
      return `<${name}>`;
    }
    return op === '-' ? (arg ?? '') : '';
  });
  return { value: out, required };
}

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfileStages(text);
  let envs: ServiceEnv[];
  beforeAll(async () => {
    envs = await serviceEnvs();
  });

  it('builds once on node:24-bookworm-slim: npm ci, the build script, then prune to runtime dependencies', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const build = stages.find((s) => s.name === 'build')!;
    const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    const at = (pattern: RegExp) => runs.findIndex((r) => pattern.test(r));
    const install = at(/\bflotilla_npm_ci\b|\bnpm ci\b/);
    expect(install).toBeGreaterThanOrEqual(0);
    expect(at(/node scripts\/build\.mjs/)).toBeGreaterThan(install);
    expect(at(/npm prune --omit=dev/)).toBeGreaterThan(at(/node scripts\/build\.mjs/));
    expect(existsSync(join(ROOT, 'scripts/build.mjs'))).toBe(true);
  });

  it.each(SERVICES.map((s) => s.name))('has a non-root runtime target %s that runs the service, exposes its port and checks /health/live', (name) => {
    const stage = stages.find((s) => s.name === name);
    expect(stage?.from).toBe('runtime');
    expect(effective(stages, stage!, 'USER')).toBe('node');
    expect(effective(stages, stage!, 'WORKDIR')).toBe('/app');
    expect(JSON.parse(effective(stages, stage!, 'CMD')!)).toEqual(['node', `services/${name}/dist/main.js`]);
    expect(existsSync(join(ROOT, `services/${name}/src/main.ts`))).toBe(true);
    const port = envs.find((e) => e.service === name)!.defaults.HTTP_PORT;
    expect(effective(stages, stage!, 'EXPOSE')).toBe(String(port));
    expect(effective(stages, stage!, 'ENV')).toContain(`HEALTHCHECK_PORT=${port}`);
    const healthcheck = effective(stages, stage!, 'HEALTHCHECK')!;
    expect(healthcheck).toContain('/health/live');
    expect(healthcheck).toMatch(/CMD \["node", "-e", ".*fetch\(/);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '.env', '**/node_modules', '**/dist', '.data']) expect(ignored).toContain(entry);
    expect(ignored).toContain('!deploy/store-charts'); // the provisioner installs them
  });
});

describe('docker-compose.full.yml', () => {
  const path = join(ROOT, 'docker-compose.full.yml');
  const raw = readFileSync(path, 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compose = readYaml<{ services: Record<string, any> }>(path);
  let envs: ServiceEnv[];
  beforeAll(async () => {
    envs = await serviceEnvs();
  });
  const envOf = (service: string): Record<string, string> =>
    Object.fromEntries(Object.entries(compose.services[service].environment ?? {}).map(([k, v]) => [k, interpolate(String(v)).value]));

  it('runs Postgres, Redis, RabbitMQ with its management UI, MinIO and a one-shot that creates the bucket', () => {
    const s = compose.services;
    expect(s.postgres.image).toMatch(/^postgres:/);
    expect(s.redis.image).toMatch(/^redis:/);
    expect(s.rabbitmq.image).toMatch(/^rabbitmq:[\w.-]*management/);
    expect(s.minio.image).toMatch(/^minio\/minio:RELEASE\./);
    expect(s['minio-bucket'].image).toMatch(/^minio\/mc:RELEASE\./);
    expect(s['minio-bucket'].command.join(' ')).toMatch(/mc mb --ignore-existing local\/flotilla/);
    expect(s['minio-bucket'].depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    for (const name of ['postgres', 'redis', 'rabbitmq', 'minio']) expect(s[name].healthcheck.test.length).toBeGreaterThan(1);
  });

  it.each(SERVICES.map((s) => s.name))('builds %s from its Dockerfile target, read-only, with a health check and healthy dependencies', (name) => {
    const service = compose.services[name];
    expect(service.build).toEqual({ context: '.', target: name });
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.security_opt).toContain('no-new-privileges:true');
    const port = envs.find((e) => e.service === name)!.defaults.HTTP_PORT;
    expect(service.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/`);
    for (const infra of ['postgres', 'redis', 'rabbitmq']) expect(service.depends_on[infra]).toEqual({ condition: 'service_healthy' });
    for (const [dependency, { condition }] of Object.entries(service.depends_on as Record<string, { condition: string }>)) {
      expect(compose.services[dependency]).toBeDefined();
      if (condition === 'service_healthy') expect(compose.services[dependency].healthcheck).toBeDefined();
      else expect(`${dependency}: ${condition}`).toBe(`${dependency}: service_completed_successfully`);
    }
  });

  it('sets every variable each service requires and none it does not read', () => {
    for (const env of envs) {
      const set = Object.keys(envOf(env.service));
      expect({ service: env.service, missing: env.required.filter((k) => !set.includes(k)) }).toEqual({ service: env.service, missing: [] });
      // OTEL_* are OpenTelemetry's own variables, read by its SDK (docs/TRACING.md), not by the service's settings.
      expect({ service: env.service, unknown: set.filter((k) => !(k in env.defaults) && !k.startsWith('OTEL_')) }).toEqual({ service: env.service, unknown: [] });
      expect(envOf(env.service).HTTP_PORT).toBe(String(env.defaults.HTTP_PORT));
    }
  });

  it('connects the services to the containers, signs URLs for the published MinIO port, and sends the console to admin', () => {
    for (const { name } of SERVICES) {
      const env = envOf(name);
      expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
      expect(new URL(env.REDIS_URL).hostname).toBe('redis');
      expect(new URL(env.AMQP_URL).hostname).toBe('rabbitmq');
    }
    const published = compose.services.minio.ports.map((p: string) => interpolate(p).value).find((p: string) => p.endsWith(':9000'));
    for (const name of ['upload', 'validator']) {
      expect(envOf(name).S3_ENDPOINT).toBe('http://minio:9000');
      expect(envOf(name).S3_PUBLIC_ENDPOINT).toBe(`http://localhost:${published.split(':')[1]}`);
      expect(compose.services[name].depends_on['minio-bucket']).toEqual({ condition: 'service_completed_successfully' });
    }
    expect(envOf('gateway').ADMIN_URL).toBe('http://admin:8086');
    expect(compose.services.gateway.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(envOf('provisioner').CLUSTER_DRIVER).toBe('simulated');
  });

  it('sends every service\'s traces to an OpenTelemetry Collector, which hands them to Jaeger', () => {
    const collector = compose.services['otel-collector'];
    expect(collector.image).toMatch(/^otel\/opentelemetry-collector(-contrib)?:\d/);
    const mounted = (collector.volumes as string[]).find((v) => v.endsWith(':ro'))!.split(':')[0]!;
    const config = readYaml<{ exporters: Record<string, { endpoint: string }>; service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } } }>(join(ROOT, mounted));
    expect(config.service.pipelines.traces.receivers).toEqual(['otlp']);
    expect(config.service.pipelines.traces.exporters.map((e) => config.exporters[e]!.endpoint)).toEqual(['jaeger:4317']);
    expect(compose.services.jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d/);
    expect(compose.services.jaeger.ports).toEqual(['127.0.0.1:16686:16686']);
    for (const { name } of SERVICES) expect(envOf(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
  });

  it('takes every secret from the environment: required, or a development value marked as such', () => {
    const lines = raw.split('\n');
    const secretLines = lines.filter((l) => {
      const key = /^\s*([A-Z][A-Z0-9_]*):/.exec(l)?.[1];
      return key !== undefined && isSecretName(key) && !/_USER$|ACCESS_KEY_ID$/.test(key);
    });
    expect(secretLines.length).toBeGreaterThanOrEqual(6);
    for (const line of secretLines) expect(line).toMatch(/\$\{\w+:\?[^}]+\}|\$\{\w+:-[^}]+\}.*# dev value/);
  });
});
