import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readYaml } from './support/manifests.js';
import { ROOT } from './support/paths.js';

// One Node.js everywhere: .node-version pins it exactly (the scripts install it, CI's
// setup-node reads it); engines, the image's base and CI must not drift from it.
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const parts = (version: string): number[] => version.split('.').map(Number);
const major = (version: string): number => parts(version)[0];
const atLeast = (version: string, min: string): boolean => {
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};
const pinned = read('.node-version').trim();

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}

describe('Node.js runtime', () => {
  it('is pinned to Node.js 24 LTS in .node-version, which the scripts read and nothing overrides', () => {
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    expect(read('scripts/lib/node.sh')).toContain('.node-version');
    // Every entry point switches before it installs or runs anything.
    for (const file of ['scripts/start.sh', 'scripts/test.sh', '.ci/run']) {
      const text = read(file);
      expect(`${file}: ${text.indexOf('flotilla_node_check') >= 0}`).toBe(`${file}: true`);
      expect(text.indexOf('flotilla_node_check')).toBeLessThan(text.search(/flotilla_(deps_ensure|npm_ci)$/m));
    }
    // No second pin hiding in the scripts.
    for (const file of ['scripts/lib/node.sh', 'scripts/lib/deps.sh', 'scripts/start.sh', 'scripts/test.sh', '.ci/run']) {
      expect(`${file}: ${read(file).match(/\b(?:1[89]|2\d)\.\d+\.\d+\b/g)}`).toBe(`${file}: null`);
    }
  });

  it('agrees with engines, the Dockerfile base and CI', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const [, min] = /^>=(\d+(?:\.\d+){0,2})$/.exec(engines) ?? [];
    expect(min).toBeDefined();
    expect(major(min)).toBe(major(pinned));
    expect(atLeast(pinned, min)).toBe(true);
    // npm records engines in the lock too; a stale copy would tell npm ci another story.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> };
    expect(lock.packages[''].engines?.node).toBe(engines);

    const [, image] = /^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(read('Dockerfile')) ?? [];
    expect(Number(image)).toBe(major(pinned));

    const ci = readYaml<{ jobs: Record<string, { steps: Step[] }> }>(join(ROOT, '.github/workflows/ci.yml'));
    const setups = Object.values(ci.jobs).flatMap((job) => job.steps.filter((s) => s.uses?.startsWith('actions/setup-node@')));
    expect(setups.length).toBeGreaterThan(0);
    for (const step of setups) expect(step.with).toMatchObject({ 'node-version-file': '.node-version' });
    for (const step of setups) expect(step.with?.['node-version']).toBeUndefined();
  });

  it('runs CI on actions pinned by full commit SHA, the tag written beside each', () => {
    const uses = read('.github/workflows/ci.yml')
      .split('\n')
      .filter((line) => /^\s*(-\s+)?uses:/.test(line))
      .map((line) => line.replace(/^\s*(-\s+)?uses:\s*/, ''));
    expect(uses.length).toBeGreaterThan(5);
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/);
  });
});
