// Summarizes CPU profiles written by `node --cpu-prof` (e.g. by `npm run bench -- --profile
// gateway`): the functions and the code owners (packages, Node internals, the project's
// libraries and services) with the most self time.
//
//   node bench/profile-summary.mjs [--top 20] <file.cpuprofile | folder>...
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderSummary, summarize } from './lib/cpuprofile.mjs';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '20' } }, allowPositionals: true });
const files = positionals.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.mjs [--top 20] <file.cpuprofile | folder>...');
  process.exit(2);
}
console.log(renderSummary(summarize(files), Number(values.top)));
