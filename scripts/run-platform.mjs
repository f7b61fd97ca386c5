#!/usr/bin/env node
// Runs every built service (services/*/dist/main.js) as a child process, so a new
// service needs no edit here. Usage:
//
//   node scripts/run-platform.mjs                  # all services
//   node scripts/run-platform.mjs gateway          # only the ones named
//
// - Environment: the caller's, plus development defaults for what is unset
//   (NODE_ENV, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET). Ports are the services' own
//   defaults; `<SERVICE>_HTTP_PORT` (GATEWAY_HTTP_PORT, VOTE_CONSUMER_HTTP_PORT, ...)
//   gives one service another port. A plain HTTP_PORT applies only when one service runs.
// - Object storage: when S3_ENDPOINT is unset and a service needs S3, an embedded S3
//   (s3rver) runs inside this runner on S3_EMBEDDED_PORT (default 9000), keeping its
//   objects in S3_EMBEDDED_DIR (default .data/s3), and the services are pointed at it.
// - Output: every line prefixed with the service name; pino JSON lines are
//   pretty-printed on a terminal and passed through as JSON otherwise
//   (FLOTILLA_LOG_FORMAT=json|pretty overrides).
// - Waits for each service's GET /health/startup to answer 200, then prints the URLs.
// - SIGINT/SIGTERM: SIGTERM to every service, up to 15 s (or SHUTDOWN_GRACE_MS + 5 s
//   if longer) for them to finish, then SIGKILL; exits 0. Another Ctrl-C more than
//   1.5 s later kills at once.
// - A service that dies on its own is restarted with backoff (1, 2, 4, 8, 16 s), at
//   most 5 times in a row; a run of a minute or more starts the count again.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pinoPretty from 'pino-pretty';
import { serviceNodeOptions } from './lib/node-options.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES_DIR = process.env.FLOTILLA_SERVICES_DIR ?? join(ROOT, 'services');

/** Default HTTP port of each service, as in its own env class. Unknown services are not waited for. */
const KNOWN_PORTS = { gateway: 8080, upload: 8082, validator: 8083, 'vote-consumer': 8084, provisioner: 8085, admin: 8086 };

/** Services that keep objects in S3: without S3_ENDPOINT, an embedded S3 is started for them. */
const S3_SERVICES = ['upload', 'validator'];

/** Development defaults; never applied over a value the caller set. */
const DEV_DEFAULTS = {
  NODE_ENV: 'development',
  ADMIN_EMAIL: 'admin@flotilla.local',
  ADMIN_PASSWORD: 'flotilla-admin-dev',
  JWT_SECRET: 'flotilla-dev-jwt-secret-change-me-in-production',
};

const MAX_RESTARTS = 5;
const STABLE_MS = 60_000;
const STARTUP_TIMEOUT_MS = Number(process.env.STARTUP_TIMEOUT_MS || 120_000);
const STOP_TIMEOUT_MS = Math.max(15_000, (Number(process.env.SHUTDOWN_GRACE_MS) || 0) + 5_000);

// ---------------------------------------------------------------- output

const tty = Boolean(process.stdout.isTTY);
const color = process.env.NO_COLOR ? false : process.env.FORCE_COLOR ? process.env.FORCE_COLOR !== '0' : tty;
const logFormat = process.env.FLOTILLA_LOG_FORMAT || (tty ? 'pretty' : 'json');
const pretty =
  logFormat === 'pretty'
    ? pinoPretty.prettyFactory({
        colorize: color,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service,context',
        messageFormat: '{if context}{context}: {end}{msg}',
      })
    : null;
const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = (text) => paint(1, text);

let prefixWidth = 8;
const runnerPrefix = () => paint(90, 'platform'.padEnd(prefixWidth)) + ' | ';

function write(stream, prefix, text) {
  const lines = text.replace(/\n$/, '').split('\n');
  try {
    stream.write(lines.map((line) => prefix + line).join('\n') + '\n');
  } catch {
    // the reader went away (a closed pipe); nothing to do about it
  }
}
const say = (text) => write(process.stdout, runnerPrefix(), text);
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

// ---------------------------------------------------------------- services

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const found = existsSync(SERVICES_DIR)
  ? readdirSync(SERVICES_DIR)
      .filter((name) => existsSync(join(SERVICES_DIR, name, 'dist', 'main.js')))
      .sort()
  : [];
const names = wanted.length > 0 ? wanted : found;
const missing = names.filter((n) => !found.includes(n));
if (missing.length > 0 || names.length === 0) {
  const rel = relative(process.cwd(), SERVICES_DIR);
  const where = rel.startsWith('..') ? SERVICES_DIR : rel || '.';
  if (missing.length > 0) say(`not built: ${missing.map((n) => `${where}/${n}/dist/main.js`).join(', ')}`);
  else say(`no built service found (${where}/*/dist/main.js)`);
  say('build first: node scripts/build.mjs (npm start does it for you)');
  process.exit(1);
}
prefixWidth = Math.max(8, ...names.map((n) => n.length));

const baseEnv = { ...process.env };
for (const [key, value] of Object.entries(DEV_DEFAULTS)) {
  if (baseEnv[key] === undefined || baseEnv[key] === '') baseEnv[key] = value;
}
const sharedPort = process.env.HTTP_PORT;
if (sharedPort && names.length > 1) {
  delete baseEnv.HTTP_PORT;
  say(`HTTP_PORT=${sharedPort} ignored: it would give ${names.length} services one port; use <SERVICE>_HTTP_PORT (e.g. GATEWAY_HTTP_PORT)`);
}

// Each service names its own traces (docs/TRACING.md); one name for all would merge them.
if (baseEnv.OTEL_SERVICE_NAME && names.length > 1) {
  say(`OTEL_SERVICE_NAME=${baseEnv.OTEL_SERVICE_NAME} ignored: each service's traces carry its own name`);
  delete baseEnv.OTEL_SERVICE_NAME;
}

let embeddedS3 = null;
if (!baseEnv.S3_ENDPOINT && names.some((n) => S3_SERVICES.includes(n))) {
  const port = Number(process.env.S3_EMBEDDED_PORT || 9000);
  const directory = process.env.S3_EMBEDDED_DIR || join(ROOT, '.data', 's3');
  const { startEmbeddedS3 } = await import('@flotilla/storage');
  try {
    embeddedS3 = await startEmbeddedS3({ port, directory });
  } catch (error) {
    say(`the embedded S3 could not listen on port ${port} (${error.message}); set S3_EMBEDDED_PORT, or S3_ENDPOINT to use another S3`);
    process.exit(1);
  }
  baseEnv.S3_ENDPOINT = embeddedS3.endpoint;
  say(`embedded S3 at ${embeddedS3.endpoint} (objects in ${relative(process.cwd(), directory) || directory})`);
}

const portVar = (name) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_HTTP_PORT`;

const services = names.map((name, index) => {
  const env = { ...baseEnv, NODE_OPTIONS: serviceNodeOptions(name, baseEnv.NODE_OPTIONS) };
  const override = process.env[portVar(name)];
  if (override) env.HTTP_PORT = override;
  const port = Number(env.HTTP_PORT ?? KNOWN_PORTS[name]) || null;
  return {
    name,
    main: join(SERVICES_DIR, name, 'dist', 'main.js'),
    env,
    port,
    prefix: paint(PALETTE[index % PALETTE.length], name.padEnd(prefixWidth)) + ' | ',
    child: null,
    startedAt: 0,
    restarts: 0,
    restartTimer: null,
    gaveUp: false,
    ready: false,
  };
});

let stopping = false;

function launch(svc) {
  svc.restartTimer = null;
  svc.startedAt = Date.now();
  const child = spawn(process.execPath, [svc.main], {
    cwd: ROOT,
    env: svc.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only this runner, which then
    // sends each service exactly one SIGTERM (a second signal would cut its shutdown short).
    detached: true,
  });
  svc.child = child;
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    write(process.stdout, svc.prefix, pretty && line.startsWith('{') ? pretty(line) : line);
  });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
    write(process.stderr, svc.prefix, pretty && line.startsWith('{') ? pretty(line) : line);
  });
  child.on('error', (err) => say(`${svc.name}: could not start: ${err.message}`));
  child.on('exit', (code, signal) => {
    svc.child = null;
    if (stopping) return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (Date.now() - svc.startedAt >= STABLE_MS) svc.restarts = 0;
    if (svc.restarts >= MAX_RESTARTS) {
      svc.gaveUp = true;
      say(paint(31, `${svc.name} ${how}; gave up after ${MAX_RESTARTS} restarts`));
      if (services.every((s) => s.gaveUp)) {
        say(paint(31, 'no service is left running'));
        process.exit(1);
      }
      return;
    }
    const delay = 1000 * 2 ** svc.restarts;
    svc.restarts += 1;
    say(paint(33, `${svc.name} ${how}; restarting in ${delay / 1000} s (${svc.restarts}/${MAX_RESTARTS})`));
    svc.restartTimer = setTimeout(() => launch(svc), delay);
  });
}

// ---------------------------------------------------------------- readiness

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function portTaken(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

/** Polls /health/startup until it answers 200; false on time-out or when the service is given up. */
async function waitStarted(svc) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!stopping && !svc.gaveUp && Date.now() < deadline) {
    if (svc.child) {
      try {
        const res = await fetch(`http://127.0.0.1:${svc.port}/health/startup`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status === 200) return true;
      } catch {
        // not listening yet
      }
    }
    await sleep(500);
  }
  return false;
}

function printUrls(results) {
  const host = 'http://localhost';
  const allReady = results.every(([, ok]) => ok);
  const heading = allReady ? bold('Flotilla is running') : paint(31, bold('Flotilla started, but not every service is ready'));
  const lines = ['', heading + ` (NODE_ENV=${baseEnv.NODE_ENV}${baseEnv.NAMESPACE ? `, NAMESPACE=${baseEnv.NAMESPACE}` : ''})`];
  const gateway = services.find((s) => s.name === 'gateway' && s.port);
  if (gateway) {
    lines.push(`  API            ${host}:${gateway.port}/api/v1`);
    lines.push(`  API docs       ${host}:${gateway.port}/api/docs`);
    if (services.some((s) => s.name === 'admin')) lines.push(`  Admin console  ${host}:${gateway.port}/admin/`);
  }
  if (embeddedS3) lines.push(`  S3 (embedded)  ${embeddedS3.endpoint}`);
  lines.push('  Services');
  for (const [svc, ok] of results) {
    const state = svc.port === null ? paint(90, 'started (no known port: not waited for)') : ok ? paint(32, 'ready') : paint(31, 'not started');
    lines.push(`    ${svc.name.padEnd(prefixWidth)}  ${state}`);
    if (svc.port !== null) {
      lines.push(`    ${''.padEnd(prefixWidth)}  health ${host}:${svc.port}/health/ready   metrics ${host}:${svc.port}/metrics`);
    }
  }
  if (gateway) {
    const password =
      process.env.ADMIN_PASSWORD ? '(the ADMIN_PASSWORD you set)' : DEV_DEFAULTS.ADMIN_PASSWORD;
    lines.push(`  Admin login    ${baseEnv.ADMIN_EMAIL} / ${password}`);
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  // A banner, not a log line: no prefix, so it stands out.
  write(process.stdout, '', lines.join('\n'));
}

// ---------------------------------------------------------------- shutdown

let stopRequestedAt = 0;

async function shutdown(signal) {
  if (stopping) {
    // Under `npm start`, Ctrl-C arrives twice at once: from the terminal and forwarded
    // by npm. Only a signal well after the first one means "kill now".
    if (Date.now() - stopRequestedAt < 1500) return;
    say('second signal: killing the services now');
    killAll('SIGKILL');
    process.exit(0);
  }
  stopping = true;
  stopRequestedAt = Date.now();
  for (const svc of services) if (svc.restartTimer) clearTimeout(svc.restartTimer);
  const running = services.filter((s) => s.child);
  say(`${signal}: stopping ${running.map((s) => s.name).join(', ') || 'nothing'} (up to ${STOP_TIMEOUT_MS / 1000} s)`);
  const exited = running.map((svc) => new Promise((resolve) => svc.child.once('exit', resolve)));
  for (const svc of running) {
    try {
      process.kill(svc.child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const timer = setTimeout(() => {
    const left = services.filter((s) => s.child);
    say(paint(31, `still running after ${STOP_TIMEOUT_MS / 1000} s, killing: ${left.map((s) => s.name).join(', ')}`));
    killAll('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await Promise.all(exited);
  clearTimeout(timer);
  await embeddedS3?.close().catch(() => undefined);
  say('stopped');
  process.exit(0);
}

/** Signals each service's whole process group (it may have children of its own). */
function killAll(signal) {
  for (const svc of services) {
    if (!svc.child) continue;
    try {
      process.kill(-svc.child.pid, signal);
    } catch {
      try {
        process.kill(svc.child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void shutdown(signal));
// Should this runner die of a bug, take the services with it rather than orphan them.
process.on('exit', () => killAll('SIGKILL'));

// ---------------------------------------------------------------- main

const taken = [];
for (const svc of services) {
  if (svc.port !== null && (await portTaken(svc.port))) taken.push(svc);
}
if (taken.length > 0) {
  for (const svc of taken) {
    say(paint(31, `port ${svc.port} (${svc.name}) is already in use: is Flotilla already running? Stop it, or set ${portVar(svc.name)}.`));
  }
  process.exit(1);
}

say(`starting ${services.map((s) => s.name).join(', ')}`);
for (const svc of services) launch(svc);
const results = await Promise.all(services.map(async (svc) => [svc, svc.port === null ? true : await waitStarted(svc)]));
if (!stopping) {
  for (const [svc, ok] of results) {
    svc.ready = ok;
    if (!ok && svc.port !== null && !svc.gaveUp) {
      say(paint(31, `${svc.name}: /health/startup on port ${svc.port} did not answer 200 within ${STARTUP_TIMEOUT_MS / 1000} s`));
    }
  }
  printUrls(results);
}
