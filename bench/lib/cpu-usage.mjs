// Where the machine's CPU went during a step, from /proc: each service, the embedded S3,
// the harness itself, the servers (Postgres, Redis, RabbitMQ — shared with anything else
// using them) and the rest of the machine. In cores: 1.0 is one core busy all along.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const SERVERS = { postgres: ['postgres'], redis: ['redis-server'], rabbitmq: ['beam.smp', 'erl_child_setup', 'epmd'] };

/** utime + stime of a process in seconds (its threads included), or 0 when it is gone. */
function processSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process whose command name is one of each server's. */
function serverSeconds() {
  const totals = Object.fromEntries(Object.keys(SERVERS).map((k) => [k, 0]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    for (const [server, names] of Object.entries(SERVERS)) if (names.includes(comm)) totals[server] += processSeconds(entry);
  }
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
  return { at: performance.now(), named, servers: serverSeconds(), machine: machineSeconds() };
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
