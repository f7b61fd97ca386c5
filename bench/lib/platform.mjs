// The platform under test: the built services as separate processes on the machine's
// Postgres, Redis and RabbitMQ, in a namespace of their own, with an embedded S3 in a
// process of its own. Also what it takes to leave nothing behind.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Naming } from '@flotilla/config';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, freePort, ServiceProcess, testEnv, uniqueNamespace } from '@flotilla/testing';
import { Api } from './api.mjs';
import { retireService } from './cpu-usage.mjs';
import { sleep } from './stats.mjs';
import { serviceNodeOptions } from '../../scripts/lib/node-options.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };
export const SERVICES = ['gateway', 'vote-consumer', 'upload', 'validator', 'provisioner', 'admin'];
/** The RPC queue each service serves, for removing its topology. */
const SERVES = { gateway: undefined, 'vote-consumer': 'votes', upload: 'upload', validator: 'validator', provisioner: 'provisioner', admin: 'admin' };

/** Starts `node <script> [args]` and resolves with the child and the first line it prints. */
export async function spawnWithFirstLine(script, args = [], env = {}) {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${script} exited with ${code} before it was ready`);
    }),
  ]);
  return { child, line: first };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process in MB (10^6 bytes), from /proc; NaN when it cannot be read. */
export function rssMB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / 1e6 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export class BenchPlatform {
  /**
   * @param {object} options
   * @param {string[]} [options.names] services to start
   * @param {Record<string, string>} [options.env] extra environment of every service
   * @param {string[]} [options.profile] services to run with `--cpu-prof`
   * @param {string} [options.profileDir] where their `.cpuprofile` files go (one folder per service)
   * @param {string} [options.nodeOptions] NODE_OPTIONS of every service (e.g. heap flags to try)
   */
  constructor({ names = SERVICES, env = {}, profile = [], profileDir, nodeOptions = '' } = {}) {
    this.namespace = uniqueNamespace();
    this.naming = new Naming(this.namespace);
    this.names = names;
    this.extraEnv = env;
    this.profile = profile;
    this.profileDir = profileDir;
    this.nodeOptions = nodeOptions;
    this.byName = new Map();
    this.extraQueues = [];
    this.s3 = undefined;
    this.s3Child = undefined;
    this.readyMs = Number.NaN;
    this.stopped = false;
  }

  get bucket() {
    return `flotilla-${this.namespace}`;
  }

  service(name) {
    const svc = this.byName.get(name);
    if (!svc) throw new Error(`${name} is not part of this platform`);
    return svc;
  }

  env(name, ports) {
    const profiling = this.profile.includes(name) && this.profileDir;
    if (profiling) mkdirSync(join(this.profileDir, name), { recursive: true });
    return testEnv(this.namespace, {
      NODE_ENV: 'development',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'bench-jwt-secret-that-is-long-enough-0123456789',
      JWT_ACCESS_TTL_SECONDS: '7200',
      // Limits far above the load, so the counters still cost their Redis round trip but never answer 429.
      RATE_LIMIT_PER_IP: '1000000000',
      RATE_LIMIT_PER_USER: '1000000000',
      CLUSTER_DRIVER: 'simulated',
      ...(this.s3 ? { S3_ENDPOINT: this.s3.endpoint, S3_BUCKET: this.bucket } : {}),
      ...(name === 'gateway' && ports.has('admin') ? { ADMIN_URL: `http://127.0.0.1:${ports.get('admin')}` } : {}),
      // Node refuses --cpu-prof in NODE_OPTIONS; a preloaded module runs the same profiler.
      // The flags `npm start` gives the service, unless --node-options sets the same.
      NODE_OPTIONS: serviceNodeOptions(name, [this.nodeOptions, profiling ? `--import=${join(ROOT, 'bench/lib/cpu-profile-preload.mjs')}` : ''].filter(Boolean).join(' ')),
      ...(profiling ? { BENCH_CPU_PROFILE_DIR: join(this.profileDir, name) } : {}),
      // The standard OpenTelemetry variables of the harness's own environment, so a run can
      // measure the services with tracing on (docs/TRACING.md); none set, tracing stays off.
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('OTEL_'))),
      ...this.extraEnv,
    });
  }

  /** Starts S3 and every service at once; resolves once all answer `/health/ready`, recording how long that took. */
  async start() {
    if (this.names.includes('upload') || this.names.includes('validator')) {
      const { child, line } = await spawnWithFirstLine(join(ROOT, 'bench/lib/servers/s3.mjs'));
      this.s3Child = child;
      this.s3 = JSON.parse(line);
    }
    const ports = new Map();
    for (const name of this.names) ports.set(name, await freePort());
    for (const name of this.names) this.byName.set(name, new ServiceProcess(name, ports.get(name), this.env(name, ports)));
    const started = performance.now();
    await Promise.all([...this.byName.values()].map((svc) => svc.start(120_000)));
    await Promise.all([...this.byName.values()].map((svc) => this.waitReady(svc)));
    this.readyMs = performance.now() - started;
    this.api = new Api(this.service('gateway').url);
    return this;
  }

  async waitReady(svc, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await fetch(`${svc.url}/health/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${svc.name} did not get ready within ${timeoutMs} ms\n${svc.logs()}`);
  }

  /** Stops one service (SIGTERM, graceful); `service(name).start()` runs it again with the same port and environment. */
  async stopService(name) {
    const svc = this.service(name);
    if (svc.pid) retireService(svc.pid);
    await svc.stop();
  }

  /**
   * Cuts the CPU profile of every profiled service: what was recorded since the last cut
   * is saved as `<label>.cpuprofile` (and its memory as `<label>.memory.json`) in the
   * service's folder, or dropped without a label.
   */
  async cutProfiles(label) {
    await Promise.all(
      this.profile.map(async (name) => {
        const svc = this.byName.get(name);
        if (!svc?.pid) return;
        const dir = join(this.profileDir, name);
        const known = new Set(readdirSync(dir));
        process.kill(svc.pid, 'SIGWINCH');
        for (let i = 0; i < 100; i++) {
          const fresh = readdirSync(dir).filter((f) => !known.has(f) && /^\d+\.\d+\.cpuprofile$/.test(f));
          if (fresh.length > 0) {
            await sleep(200); // let the writes finish
            for (const f of readdirSync(dir).filter((name) => !known.has(name) && /^\d+\.\d+\./.test(name))) {
              if (label) renameSync(join(dir, f), join(dir, f.replace(/^\d+\.\d+\./, `${label}.`)));
              else rmSync(join(dir, f));
            }
            return;
          }
          await sleep(50);
        }
      }),
    );
  }

  rss() {
    return Object.fromEntries([...this.byName].map(([name, svc]) => [name, rssMB(svc.pid)]));
  }

  async adminToken() {
    this.adminTokenValue ??= await this.api.login(ADMIN.email, ADMIN.password);
    return this.adminTokenValue;
  }

  /** Stops every service and S3, then removes the namespace's schemas, keys, queues and exchanges. Safe to call twice. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([...this.byName.values()].map((svc) => svc.stop()));
    await stopChild(this.s3Child);
    // What the profiled services recorded after the last scenario (their shutdown) is not kept.
    for (const name of this.profile) {
      const dir = join(this.profileDir, name);
      try {
        for (const f of readdirSync(dir).filter((file) => /^\d+\.\d+\./.test(file))) rmSync(join(dir, f));
      } catch {
        // no folder: the service never started
      }
    }
    const ns = this.namespace;
    const topologies = this.names.map((name) => topologyResources(this.naming, name, SERVES[name]));
    await Promise.allSettled([
      dropSchemas(ns),
      deleteKeys(ns),
      deleteAmqp([...topologies.flatMap((t) => t.queues), ...this.extraQueues], [...new Set(topologies.flatMap((t) => t.exchanges))]),
    ]);
  }
}
