// Where the machine's CPU went during a step, from /proc: each service, the embedded S3,
// the harness itself and its helper processes, the servers (Postgres, Redis, RabbitMQ — shared with anything else
// using them) and the rest of the machine. In cores: 1.0 is one core busy all along.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const SERVERS = { postgres: ['postgres'], redis: ['redis-server'], rabbitmq: ['beam.smp', 'erl_child_setup', 'epmd'] };

/**
 * utime + stime of a process in seconds (its threads included) and, with `children`, of
 * its children that have exited (cutime + cstime); 0 when it is gone.
 */
function processSeconds(pid, children = false) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return (fields[11] + fields[12] + (children ? fields[13] + fields[14] : 0)) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

let retiredServiceSeconds = 0;

/**
 * Records what a service used before it is stopped to be started again: once it has
 * exited, its time shows in the harness's exited children, and must not count as a helper's.
 */
export function retireService(pid) {
  retiredServiceSeconds += processSeconds(pid, true);
}

/** Seconds of the harness's children that have exited (helpers, and services stopped on purpose). */
function exitedHelperSeconds() {
  return processSeconds(process.pid, true) - processSeconds(process.pid) - retiredServiceSeconds;
}

/**
 * CPU seconds of every process whose command name is one of each server's, and of the
 * harness's helpers: its other descendants (the bare route, the RPC echo server…).
 */
function serverSeconds(named) {
  const totals = Object.fromEntries([...Object.keys(SERVERS), 'helpers'].map((k) => [k, 0]));
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    // With the exited children: a Postgres backend that ends moves its time to the postmaster's.
    for (const [server, names] of Object.entries(SERVERS)) if (names.includes(comm)) totals[server] += processSeconds(entry, true);
  }
  const known = new Set(Object.values(named).map((n) => n.pid));
  for (const pid of parents.keys()) {
    if (known.has(pid)) continue;
    let up = parents.get(pid);
    while (up && up !== process.pid && !known.has(up)) up = parents.get(up);
    if (up === process.pid) totals.helpers += processSeconds(pid, true);
  }
  totals.helpers += exitedHelperSeconds();
  return totals;
}

/** Busy and total CPU seconds of the whole machine. */
function machineSeconds() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  return { busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND, idle: (idle + iowait) / TICKS_PER_SECOND };
}

/** A snapshot of `pids` ({name: pid}, read when taken), the servers and the machine. */
export function cpuSnapshot(pids) {
  const named = Object.fromEntries(Object.entries(pids()).map(([name, pid]) => [name, { pid, seconds: pid ? processSeconds(pid) : 0 }]));
  return { at: performance.now(), named, servers: serverSeconds(named), machine: machineSeconds() };
}

/**
 * Cores used between two snapshots. A process that restarted in between (another pid)
 * counts from zero. `rest` is what the machine did beyond everything named: other work.
 */
export function cpuBetween(before, after) {
  const wall = (after.at - before.at) / 1000;
  const cores = {};
  for (const [name, { pid, seconds }] of Object.entries(after.named)) {
    const start = before.named[name]?.pid === pid ? before.named[name].seconds : 0;
    cores[name] = (seconds - start) / wall;
  }
  for (const server of Object.keys(after.servers)) cores[server] = (after.servers[server] - before.servers[server]) / wall;
  const busy = (after.machine.busy - before.machine.busy) / wall;
  const total = (after.machine.busy + after.machine.idle - before.machine.busy - before.machine.idle) / wall;
  const named = Object.values(cores).reduce((a, b) => a + b, 0);
  return { wallSeconds: wall, machineCores: total, machineBusyCores: busy, cores, restCores: Math.max(0, busy - named) };
}
