// Preloaded into a service under test (NODE_OPTIONS=--import=…; Node refuses --cpu-prof
// there): runs the V8 CPU profiler from the start of the process and, on each SIGWINCH
// (a signal Nest's shutdown hooks leave alone, and ignored by default), writes what it
// has recorded so far to BENCH_CPU_PROFILE_DIR/<pid>.<n>.cpuprofile, with the process's
// memory at that moment in <pid>.<n>.memory.json, and starts recording anew — so the
// harness cuts one profile per scenario. What is left is written when the process is
// told to stop (SIGTERM, SIGINT) or exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import v8 from 'node:v8';

/** Where the memory goes: V8 heap spaces, buffers, and how much code was loaded. */
function memory() {
  const modules = Object.keys(createRequire(import.meta.url).cache);
  const packages = {};
  for (const file of modules) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const owner = match ? match[1] : 'project';
    packages[owner] = (packages[owner] ?? 0) + 1;
  }
  return {
    usage: process.memoryUsage(),
    heap: v8.getHeapStatistics(),
    spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, used: s.space_used_size, size: s.space_size })),
    commonjsModules: modules.length,
    modulesByPackage: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])),
  };
}

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  let n = 0;
  let stopped = false;
  // The in-process session answers synchronously, so each write completes in the handler.
  const cut = (restart) => {
    if (stopped) return;
    writeFileSync(join(dir, `${process.pid}.${n}.memory.json`), JSON.stringify(memory(), null, 2));
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.${n}.cpuprofile`), JSON.stringify(result.profile));
    });
    n++;
    if (restart) session.post('Profiler.start');
    else stopped = true;
  };
  process.on('SIGWINCH', () => cut(true));
  // Nest closes on these and re-raises the signal, which ends the process without an 'exit' event.
  process.once('SIGTERM', () => cut(false));
  process.once('SIGINT', () => cut(false));
  process.on('exit', () => cut(false));
}
