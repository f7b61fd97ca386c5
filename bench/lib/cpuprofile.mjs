// Reads V8 `.cpuprofile` files (node --cpu-prof) and ranks functions by self time, and
// the code they belong to (a package, Node's internals, or the project's own files).
import { readFileSync } from 'node:fs';

/** Where a function lives: `node_modules/<pkg>`, `node:internal`, a project path, or the V8 pseudo-frames. */
export function ownerOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const project = /\/(services|libs|tools)\/([^/]+)\//.exec(url);
  return project ? `${project[1]}/${project[2]}` : url.replace(/^file:\/\//, '');
}

/** Self time (ms) per function and per owner, over one or more profiles. */
export function summarize(paths) {
  const byFunction = new Map();
  const byOwner = new Map();
  let total = 0;
  let idle = 0;
  for (const path of paths) {
    const profile = JSON.parse(readFileSync(path, 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    // The first delta runs from the profiler's start to its first sample, not one sampling interval: left out.
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (i === 0 ? 0 : (profile.timeDeltas[i] ?? 0) / 1000)));
    for (const [id, timeMs] of self) {
      const { functionName, url, lineNumber } = nodes.get(id).callFrame;
      if (functionName === '(idle)') {
        idle += timeMs;
        continue;
      }
      total += timeMs;
      const name = functionName || '(anonymous)';
      const key = url ? `${name} ${url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}` : name;
      byFunction.set(key, (byFunction.get(key) ?? 0) + timeMs);
      const owner = url ? ownerOf(url) : name.startsWith('(') ? name : '(native / V8)';
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + timeMs);
    }
  }
  const rank = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms, share: total ? ms / total : 0 }));
  return { busyMs: total, idleMs: idle, functions: rank(byFunction), owners: rank(byOwner) };
}

/** Plain-text report of the top `top` functions and owners. */
export function renderSummary(summary, top = 20) {
  const line = (e) => `${(e.share * 100).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`;
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    'self time by code owner:',
    ...summary.owners.slice(0, top).map(line),
    '',
    'self time by function:',
    ...summary.functions.slice(0, top).map(line),
  ].join('\n');
}
