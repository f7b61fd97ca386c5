import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { helm } from './support/helm.js';
import { ROOT } from './support/paths.js';

/*
 * Both store charts take their shared named templates from the library chart
 * deploy/store-charts/store-common, through a file:// dependency vendored in each chart's
 * charts/ (the provisioner installs the chart directories as they are, offline, and its
 * image copies deploy/store-charts). The vendored archive must be the library as it is in
 * the repository: after changing store-common, run
 *   node_modules/.bin/helm dependency build deploy/store-charts/wordpress   (and medusa)
 */

const STORE_CHARTS = join(ROOT, 'deploy/store-charts');
const LIBRARY = join(STORE_CHARTS, 'store-common');
const CHARTS = ['wordpress', 'medusa'] as const;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'store-common-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function filesUnder(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name), 'utf8')]));
}

describe('the library chart store-common', () => {
  it('is a library chart that passes helm lint --strict', () => {
    expect(readFileSync(join(LIBRARY, 'Chart.yaml'), 'utf8')).toMatch(/^type: library$/m);
    const result = helm(['lint', '--strict', LIBRARY]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toMatchObject({ status: 0 });
  });

  it.each(CHARTS)('is vendored in %s/charts exactly as in the repository', (chart) => {
    expect(readFileSync(join(STORE_CHARTS, chart, 'Chart.yaml'), 'utf8')).toMatch(/- name: store-common\n\s+version: 0\.1\.0\n\s+repository: file:\/\/\.\.\/store-common/);
    const out = join(work, chart);
    spawnSync('mkdir', ['-p', out]);
    const untar = spawnSync('tar', ['-xzf', join(STORE_CHARTS, chart, 'charts', 'store-common-0.1.0.tgz'), '-C', out], { encoding: 'utf8' });
    expect(untar.stderr).toBe('');
    const vendored = filesUnder(join(out, 'store-common'));
    const source = filesUnder(LIBRARY);
    expect([...vendored.keys()].sort()).toEqual([...source.keys()].sort());
    // Helm writes Chart.yaml anew when it packages the chart: its content must agree, not its text.
    expect(parse(vendored.get('Chart.yaml') ?? '')).toEqual(parse(source.get('Chart.yaml') ?? ''));
    for (const [file, text] of source) {
      if (file !== 'Chart.yaml') expect(`${file}: ${vendored.get(file) === text ? 'same' : 'stale (run helm dependency build)'}`).toBe(`${file}: same`);
    }
  });

  it.each(CHARTS)('is the only place %s takes store.* templates from', (chart) => {
    const own = filesUnder(join(STORE_CHARTS, chart, 'templates'));
    for (const [file, text] of own) expect(`${file}: ${[...text.matchAll(/define "(store\.[\w.]+)"/g)].map((m) => m[1]).join(', ')}`).toBe(`${file}: `);
    const shared = [...filesUnder(join(LIBRARY, 'templates')).values()].join('\n');
    const used = new Set([...own.values()].flatMap((text) => [...text.matchAll(/include "(store\.[\w.]+)"/g)].map((m) => m[1])));
    for (const name of used) expect(`${name}: ${shared.includes(`define "${name}"`)}`).toBe(`${name}: true`);
  });
});
