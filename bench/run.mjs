// The performance harness: the raw limits of the platform's parts, then every scenario
// of the performance method against them, measured in the same run on this machine.
//
//   npm run bench                      the full run (several minutes)
//   npm run bench -- --quick           smaller counts and durations, under two minutes (CI smoke)
//   npm run bench -- --only votes-ingest,status
//   npm run bench -- --profile gateway,vote-consumer   (CPU profiles of those services, one per scenario)
//   npm run bench -- --node-options=--max-semi-space-size=4   (flags for every service's node)
//
// Needs the build (npm run build) and Postgres, Redis and RabbitMQ as for the tests.
// Starts every service in a namespace of its own with an embedded S3, prints one table
// (scenario, figure, raw figure, ratio, bar, result) and writes bench/results/<time>.json
// and .svg. Exits 1 when a scenario could not run or an integrity row failed (votes lost
// or double counted, requests or uploads that ended in errors); a speed bar that is not
// met is reported, not an error. Everything it creates is removed, also on Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.mjs';
import { cpuBetween, cpuSnapshot } from './lib/cpu-usage.mjs';
import { BenchPlatform, ROOT, SERVICES } from './lib/platform.mjs';
import { bareRoute, pgInserts, redisXadd, rmqRpc, s3PutGet } from './lib/raw-limits.mjs';
import { storesScenario } from './lib/scenarios/stores.mjs';
import { statusPolling } from './lib/scenarios/status.mjs';
import { uploadFlow, xrayDataset } from './lib/scenarios/uploads.mjs';
import { validationBacklog } from './lib/scenarios/validation-backlog.mjs';
import { voteDrain, voteFreshness, voteIngest } from './lib/scenarios/votes.mjs';
import { MiB, sleep } from './lib/stats.mjs';
import { exitCode, failedIntegrity, ms, num, pct, renderTable, row, times } from './lib/table.mjs';

const SCENARIOS = ['votes-ingest', 'votes-freshness', 'votes-drain', 'uploads', 'validation-backlog', 'status', 'stores', 'footprint'];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    'node-options': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
  },
});
const only = args.only ? args.only.split(',').map((s) => s.trim()) : SCENARIOS;
for (const name of only) if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}; one of ${SCENARIOS.join(', ')}`);
const wants = (name) => only.includes(name);

const RECONCILE_MS = 15_000;
const C = args.quick
  ? { mode: 'quick', connections: 100, seconds: 5, voters: 20, drainEntries: 20_000, drainVoters: 5_000, pgRows: 100_000, uploadTeams: [24], backlogDatasets: 24, pollSeconds: 3, stores: 20, xaddRequests: 100_000, s3Copies: 8 }
  : { mode: 'full', connections: 100, seconds: 15, voters: 100, drainEntries: 1_000_000, drainVoters: 100_000, pgRows: 1_000_000, uploadTeams: [24, 240], backlogDatasets: 96, pollSeconds: 10, stores: 100, xaddRequests: 300_000, s3Copies: 24 };

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(args.out, { recursive: true });
const profile = args.profile ? args.profile.split(',').map((s) => s.trim()) : [];
for (const name of profile) if (!SERVICES.includes(name)) throw new Error(`unknown service ${name}; one of ${SERVICES.join(', ')}`);
const profileDir = profile.length ? join(args.out, `${stamp}-profiles`) : undefined;

const platform = new BenchPlatform({ env: { RECONCILE_INTERVAL_MS: String(RECONCILE_MS) }, profile, profileDir, nodeOptions: args['node-options'] });
const rows = [];
const raw = {};
const results = { cpu: {} };
let failures = 0;
const pids = () => ({ ...Object.fromEntries([...platform.byName].map(([name, svc]) => [name, svc.pid])), s3: platform.s3Child?.pid, harness: process.pid });
const T0 = performance.now();
const log = (message) => process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

let stopping;
const cleanUp = () => (stopping ??= platform.stop());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    log(`${signal}: stopping the platform and removing namespace ${platform.namespace}…`);
    cleanUp().finally(() => process.exit(130));
  });
}

/** Runs one step; a step that throws becomes an ERROR row and a non-zero exit. */
async function step(name, fn) {
  log(`${name}…`);
  const started = performance.now();
  const profiled = profile.length > 0 && !/^(raw|accounts):/.test(name);
  try {
    if (profiled) await platform.cutProfiles();
    const before = cpuSnapshot(pids);
    await fn();
    results.cpu[name] = cpuBetween(before, cpuSnapshot(pids));
    if (profiled) await platform.cutProfiles(name.replace(/[^a-z0-9]+/gi, '-'));
    const cpu = results.cpu[name];
    const top = Object.entries(cpu.cores).filter(([, c]) => c >= 0.05).sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c.toFixed(2)}`);
    log(`${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s; cores busy ${cpu.machineBusyCores.toFixed(2)} of ${cpu.machineCores.toFixed(1)}: ${[...top, `other work ${cpu.restCores.toFixed(2)}`].join(', ')}`);
  } catch (error) {
    failures++;
    log(`${name} could not run: ${error.stack ?? error}`);
    rows.push(row(name, { figure: '—', error: String(error.message ?? error).slice(0, 300) }));
  }
}

const machine = () => ({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: os.totalmem() / 2 ** 30, node: process.version, platform: `${os.type()} ${os.release()}`, loadavg: os.loadavg() });
const machineAtStart = machine();

try {
  // -- The platform, and its footprint: time to ready, idle RSS -----------------------
  log(`starting ${SERVICES.join(', ')} in namespace ${platform.namespace} (${C.mode} run)`);
  await platform.start();
  if (profile.length > 0) await platform.cutProfiles('startup');
  await sleep(3000);
  results.footprint = { readyMs: platform.readyMs, idleRssMB: platform.rss() };
  const adminToken = await platform.adminToken();

  // Accounts: voters (one team), and one team with one member per upload team.
  let voters = [];
  let probe;
  if (wants('votes-ingest') || wants('votes-freshness')) {
    await step('accounts: voters', async () => {
      voters = await platform.api.membersOfOneTeam(adminToken, 'bench-voters', C.voters + 1);
      probe = voters.pop();
    });
  }
  const tokens = voters.map((v) => v.token);
  const teamsNeeded = Math.max(wants('uploads') ? Math.max(...C.uploadTeams) : 0, wants('validation-backlog') ? C.backlogDatasets : 0, wants('status') ? 1 : 0, wants('stores') ? Math.ceil(C.stores / 20) : 0);
  let teams = [];
  if (teamsNeeded > 0) await step(`accounts: ${teamsNeeded} teams`, async () => (teams = await platform.api.teamsWithMembers(adminToken, 'bench-team', teamsNeeded)));
  const files = xrayDataset();

  // -- Raw limits -----------------------------------------------------------------------
  if (wants('votes-ingest')) {
    await step('raw: bare Fastify route', async () => (raw.bareRoute = await bareRoute({ connections: C.connections, seconds: C.seconds, tokens })));
    await step('raw: Redis XADD', async () => (raw.xadd = await redisXadd({ naming: platform.naming, clients: C.connections, requests: C.xaddRequests, seconds: C.seconds })));
  }
  if (wants('votes-drain')) await step('raw: Postgres unnest inserts', async () => (raw.pg = await pgInserts({ naming: platform.naming, rows: C.pgRows })));
  if (wants('uploads')) {
    await step('raw: S3 PUT and GET', async () => (raw.s3 = await s3PutGet({ endpoint: platform.s3.endpoint, bucket: platform.bucket, files, copies: C.s3Copies, concurrency: 2 })));
  }
  if (wants('status')) {
    await step('raw: RabbitMQ RPC round trip', async () => (raw.rpc = await rmqRpc({ naming: platform.naming, seconds: C.pollSeconds, onQueue: (q) => platform.extraQueues.push(q) })));
  }

  // -- Scenarios ------------------------------------------------------------------------
  if (wants('votes-ingest')) {
    await step('votes-ingest', async () => {
      const r = (results.voteIngest = await voteIngest(platform, { connections: C.connections, seconds: C.seconds, tokens }));
      const bare = raw.bareRoute;
      const ratio = r.rps / (bare?.rps ?? Number.NaN);
      rows.push(
        row('vote ingest: throughput', { figure: `${num(r.rps)} req/s`, raw: bare ? `bare route ${num(bare.rps)} req/s` : '—', ratio: pct(ratio), bar: '≥ 40%', pass: ratio >= 0.4, values: { rps: r.rps, rawRps: bare?.rps, ratio } }),
        row('vote ingest: p99', { figure: ms(r.latency.p99), raw: bare ? `bare route ${ms(bare.latency.p99)}` : '—', ratio: times(r.latency.p99 / (bare?.latency.p99 ?? Number.NaN)), bar: '≤ 25 ms', pass: r.latency.p99 <= 25, values: { p99: r.latency.p99 } }),
        row('vote ingest: errors', { figure: `${r.non2xx} non-2xx, ${r.errors} errors`, bar: '= 0', pass: r.non2xx === 0 && r.errors === 0, integrity: true }),
      );
      if (raw.xadd) {
        rows.push(row('vote ingest vs Redis XADD', { figure: `${num(r.rps)} req/s`, raw: `XADD ${num(raw.xadd.rps)} ops/s (${raw.xadd.tool}, ${raw.xadd.clients} clients)`, ratio: pct(r.rps / raw.xadd.rps) }));
      }
    });
  }
  if (wants('votes-freshness')) {
    await step('votes-freshness', async () => {
      const rate = (results.voteIngest?.rps ?? 1000) / 2;
      const r = (results.voteFreshness = await voteFreshness(platform, { connections: C.connections, seconds: C.seconds, tokens, probeToken: probe.token, adminToken, rate }));
      rows.push(
        row('vote freshness: p99 202 → results', {
          figure: ms(r.latency.p99),
          raw: `at ${num(r.background.rps)} of ${num(rate)} votes/s asked`,
          bar: '≤ 1,000 ms',
          pass: r.latency.p99 <= 1000 && r.failures === 0 && r.probes > 0,
          values: { p50: r.latency.p50, p99: r.latency.p99, probes: r.probes },
        }),
      );
    });
  }
  if (wants('votes-drain')) {
    await step('votes-drain', async () => {
      const r = (results.voteDrain = await voteDrain(platform, { entries: C.drainEntries, voters: C.drainVoters, adminToken }));
      const ratio = r.rowsPerSecond / (raw.pg?.rowsPerSecond ?? Number.NaN);
      rows.push(
        row(`vote drain: ${num(C.drainEntries)} entries`, { figure: `${num(r.rowsPerSecond)} rows/s`, raw: raw.pg ? `pg unnest ${num(raw.pg.rowsPerSecond)} rows/s` : '—', ratio: pct(ratio), bar: '≥ 25%', pass: ratio >= 0.25, values: { rowsPerSecond: r.rowsPerSecond, rawRowsPerSecond: raw.pg?.rowsPerSecond, ratio } }),
        row('vote drain: integrity', { figure: `${num(r.lost)} lost, ${num(r.doubleCounted)} double counts`, bar: 'zero loss, zero double counts', pass: r.lost === 0 && r.doubleCounted === 0 && r.deadLetters === 0, integrity: true }),
      );
    });
  }
  if (wants('uploads')) {
    for (const n of C.uploadTeams) {
      await step(`uploads: ${n} teams`, async () => {
        if (teams.length < n) throw new Error(`${n} teams are needed; ${teams.length} could be created`);
        const r = (results[`upload${n}`] = await uploadFlow(platform, { members: teams.slice(0, n), files }));
        const ratio = r.validatorBytesPerSecond / (raw.s3?.getBytesPerSecond ?? Number.NaN);
        rows.push(
          row(`upload flow ${n} teams: validator`, { figure: `${num(r.validatorMiBps, 1)} MiB/s`, raw: raw.s3 ? `S3 GET ${num(raw.s3.getMiBps, 1)} MiB/s` : '—', ratio: pct(ratio), bar: '≥ 70%', pass: ratio >= 0.7, values: { validatorMiBps: r.validatorMiBps, rawGetMiBps: raw.s3?.getMiBps, ratio } }),
          row(`upload flow ${n} teams: start → finished p95`, { figure: `${num(r.startToFinished.p95 / 1000, 1)} s`, raw: `p50 ${num(r.startToFinished.p50 / 1000, 1)} s`, bar: 'reported' }),
          row(`upload flow ${n} teams: errors`, { figure: `${r.errors} of ${n} teams`, bar: '= 0', pass: r.errors === 0, integrity: true }),
        );
      });
    }
  }
  if (wants('validation-backlog')) {
    await step(`validation-backlog: ${C.backlogDatasets} datasets`, async () => {
      if (teams.length < C.backlogDatasets) throw new Error(`${C.backlogDatasets} teams are needed; ${teams.length} could be created`);
      // The validator reads this many objects at once at most: jobs × files per job (its defaults).
      const r = (results.validationBacklog = await validationBacklog(platform, { members: teams.slice(0, C.backlogDatasets), files, concurrency: 8 * 4 }));
      const ratio = r.validatorBytesPerSecond / r.raw.getBytesPerSecond;
      rows.push(
        row(`validation backlog ${r.datasets} datasets: validator`, {
          figure: `${num(r.validatorMiBps, 1)} MiB/s`,
          raw: `S3 GET ${num(r.raw.getMiBps, 1)} MiB/s (${r.raw.objects} objects, ${r.raw.concurrency} at once)`,
          ratio: pct(ratio),
          bar: '≥ 70%',
          pass: ratio >= 0.7,
          values: { validatorMiBps: r.validatorMiBps, rawGetMiBps: r.raw.getMiBps, ratio, drainSeconds: r.drainSeconds, busySeconds: r.busySeconds },
        }),
        row(`validation backlog ${r.datasets} datasets: verdicts`, { figure: `${r.passed} of ${r.datasets} passed`, raw: `drained in ${num(r.drainSeconds, 1)} s`, bar: 'all passed', pass: r.passed === r.datasets, integrity: true }),
      );
    });
  }
  if (wants('status')) {
    await step('status', async () => {
      let finished = Object.values(results).find((r) => r.datasetIds?.length)?.datasetIds[0];
      if (!finished) {
        const upload = await uploadFlow(platform, { members: teams.slice(0, 1), files });
        finished = upload.datasetIds[0];
        if (!finished) throw new Error(`no finished dataset to poll: ${upload.errorSamples[0] ?? 'the upload flow did not finish'}`);
      }
      const r = (results.statusPolling = await statusPolling(platform, { ...finished, seconds: C.pollSeconds }));
      const ratio = r.latency.p50 / (raw.rpc?.latency.p50 ?? Number.NaN);
      rows.push(row('status polling: p50', { figure: ms(r.latency.p50), raw: raw.rpc ? `bare RPC ${ms(raw.rpc.latency.p50)}` : '—', ratio: times(ratio), bar: '≤ 2×', pass: ratio <= 2, values: { p50: r.latency.p50, p99: r.latency.p99, rawP50: raw.rpc?.latency.p50, rawP99: raw.rpc?.latency.p99 } }));
    });
  }
  if (wants('stores')) {
    await step('stores', async () => {
      const r = (results.stores = await storesScenario(platform, { members: teams, count: C.stores, adminToken, reconcileMs: RECONCILE_MS }));
      rows.push(
        row(`stores: ${r.count} created at once`, { figure: `${r.ready}/${r.count} ready in ${num(r.allReadySeconds, 1)} s`, raw: `p95 ${num(r.readyAfter.p95 / 1000, 1)} s each`, bar: 'all ready', pass: r.ready === r.count }),
        row(`stores: chaos, ${r.podsKilled} of ${r.podsBefore} pods killed`, {
          figure: `restored in ${num(r.restoreSeconds, 1)} s`,
          raw: `reconcile period ${num(r.reconcileSeconds)} s`,
          ratio: `${num(r.restoreSeconds / r.reconcileSeconds, 2)} periods`,
          bar: '≤ 2 periods',
          pass: r.restoreSeconds <= 2 * r.reconcileSeconds,
        }),
      );
    });
  }
  if (wants('footprint')) {
    const f = results.footprint;
    for (const [name, mb] of Object.entries(f.idleRssMB)) rows.push(row(`footprint: ${name} idle RSS`, { figure: `${num(mb, 1)} MB`, bar: '≤ 150 MB', pass: mb <= 150 }));
    rows.push(row('footprint: platform ready', { figure: `${num(f.readyMs / 1000, 1)} s`, raw: 'six services, spawn → all ready', bar: '≤ 20 s', pass: f.readyMs <= 20_000 }));
  }
  results.rssAfterLoadMB = platform.rss();
} catch (error) {
  failures++;
  log(`the platform could not run: ${error.stack ?? error}`);
  rows.push(row('platform', { figure: '—', error: String(error.message ?? error).slice(0, 300) }));
} finally {
  // The services' own output (warnings and errors) beside the results, when something failed.
  if (failures > 0 || rows.some((r) => r.result === 'FAIL' && /errors/.test(r.scenario))) {
    const dir = join(args.out, `${stamp}-logs`);
    mkdirSync(dir, { recursive: true });
    for (const [name, svc] of platform.byName) writeFileSync(join(dir, `${name}.log`), svc.logs());
    log(`service output: ${dir}`);
  }
  log(`stopping the platform and removing namespace ${platform.namespace}`);
  await cleanUp();
}

// -- Report ---------------------------------------------------------------------------
const table = renderTable(rows);
const m = machineAtStart;
const title = `Flotilla benchmark (${C.mode}), ${new Date().toISOString()}`;
const machineLine = `${m.cpus} × ${m.cpuModel}, ${num(m.memoryGiB, 1)} GiB, Node ${m.node}, load average at start ${m.loadavg.map((l) => l.toFixed(2)).join(' ')}`;
const header = `${title} — ${machineLine}`;
console.log(`\n${title}\n${machineLine}\n\n${table}\n`);

const base = join(args.out, stamp);
writeFileSync(`${base}.json`, `${JSON.stringify({ header, config: C, only, machine: { atStart: machineAtStart, atEnd: machine() }, namespace: platform.namespace, raw, results, rows, failures, seconds: (performance.now() - T0) / 1000 }, null, 2)}\n`);
const throughput = [
  results.voteIngest && raw.bareRoute && { label: 'vote ingest vs bare route', platform: results.voteIngest.rps, raw: raw.bareRoute.rps, unit: 'req/s', bar: 0.4 },
  results.voteIngest && raw.xadd && { label: 'vote ingest vs Redis XADD', platform: results.voteIngest.rps, raw: raw.xadd.rps, unit: 'req/s' },
  results.voteDrain && raw.pg && { label: 'vote drain vs pg unnest', platform: results.voteDrain.rowsPerSecond, raw: raw.pg.rowsPerSecond, unit: 'rows/s', bar: 0.25 },
  ...C.uploadTeams.map((n) => results[`upload${n}`] && raw.s3 && { label: `validator (${n} teams) vs S3 GET`, platform: results[`upload${n}`].validatorBytesPerSecond / MiB, raw: raw.s3.getMiBps, unit: 'MiB/s', bar: 0.7 }),
].filter(Boolean);
const latency = [
  raw.bareRoute && { label: 'bare Fastify route', ...raw.bareRoute.latency },
  results.voteIngest && { label: 'vote ingest', ...results.voteIngest.latency },
  raw.rpc && { label: 'bare RabbitMQ RPC', ...raw.rpc.latency },
  results.statusPolling && { label: 'status polling', ...results.statusPolling.latency },
  results.voteFreshness && { label: 'vote freshness', ...results.voteFreshness.latency },
  ...C.uploadTeams.map((n) => results[`upload${n}`] && { label: `upload start → finished (${n})`, ...results[`upload${n}`].startToFinished }),
].filter(Boolean);
writeFileSync(`${base}.svg`, renderChart({ title, subtitle: machineLine, throughput, latency }));
console.log(`results: ${base}.json, chart: ${base}.svg${profileDir ? `, CPU profiles: ${profileDir} (node bench/profile-summary.mjs <folder>)` : ''}`);
const broken = failedIntegrity(rows);
console.log(`ran in ${num((performance.now() - T0) / 1000, 1)} s${failures ? `; ${failures} step(s) could not run` : ''}${broken.length ? `; integrity failed: ${broken.map((r) => r.scenario).join(', ')}` : ''}`);
process.exit(exitCode({ failures, rows }));
