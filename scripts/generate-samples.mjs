// Writes the sample datasets (valid and broken, for both profiles) as folders, one per
// dataset, ready to upload: `node scripts/generate-samples.mjs [dir]` (default samples/).
// Each dataset's folder is replaced; nothing else in `dir` is touched.
import { resolve } from 'node:path';

// The library is used as built, through its package name (a workspace link).
let samples;
try {
  samples = await import('@flotilla/samples');
} catch (error) {
  console.error(`Cannot load @flotilla/samples (${error.message}).`);
  console.error('Link and build it first: npm install && npx tsc -b libs/samples');
  process.exit(1);
}

const dir = resolve(process.argv[2] ?? 'samples');
const datasets = await samples.writeSampleDatasets(dir);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
console.log(`Wrote ${plural(datasets.length, 'sample dataset')} to ${dir}`);
for (const d of datasets) {
  const bytes = d.files.reduce((sum, f) => sum + f.content.length, 0);
  const edition = d.options?.edition ? `, edition ${d.options.edition}` : '';
  const verdict = d.expectedCodes.length > 0 ? `${d.expectedStatus}: ${d.expectedCodes.join(', ')}` : d.expectedStatus;
  console.log(`  ${d.name.padEnd(20)} ${d.profile}${edition}, ${plural(d.files.length, 'file')}, ${kib(bytes)} -> ${verdict}`);
}
