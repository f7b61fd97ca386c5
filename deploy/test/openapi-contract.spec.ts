import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/paths.js';

// The API contract: the committed snapshot (libs/api-client/openapi.json, which the typed
// client is generated from) is what the gateway's controllers give today, and it passes
// Redocly's recommended rules and Spectral's OpenAPI and OWASP API rules with nothing
// reported (what is switched off is in redocly.yaml and .spectral.yaml, with the reason).
// The e2e suites check that a running gateway serves this same file.
const SNAPSHOT = 'libs/api-client/openapi.json';

function run(command: string, args: string[]): { status: number | null; out: string } {
  const result = spawnSync(process.execPath, [join(ROOT, command), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('the OpenAPI contract', () => {
  it('is the committed snapshot: the document the controllers give is byte for byte libs/api-client/openapi.json', () => {
    // Needs the gateway built (npm test builds first). Regenerate with: node scripts/openapi-document.mjs
    const fresh = run('scripts/openapi-document.mjs', ['-']);
    expect(fresh.status).toBe(0);
    expect(JSON.parse(fresh.out)).toEqual(JSON.parse(readFileSync(join(ROOT, SNAPSHOT), 'utf8')));
    expect(fresh.out).toBe(readFileSync(join(ROOT, SNAPSHOT), 'utf8'));
  });

  it('passes redocly lint (recommended) with no error and no warning', () => {
    const lint = run('node_modules/@redocly/cli/bin/cli.js', ['lint', SNAPSHOT, '--config', 'redocly.yaml', '--format', 'summary', '--max-problems', '1000']);
    expect(lint.out).not.toMatch(/^(error|warning) /m);
    expect(lint.status).toBe(0);
  });

  it('passes Spectral (spectral:oas and the OWASP API ruleset) with nothing reported', () => {
    const lint = run('node_modules/@stoplight/spectral-cli/dist/index.js', ['lint', SNAPSHOT, '--ruleset', '.spectral.yaml', '--format', 'json', '--fail-severity', 'hint', '--quiet']);
    const start = lint.out.indexOf('[');
    const results = JSON.parse(start >= 0 ? lint.out.slice(start, lint.out.lastIndexOf(']') + 1) : 'null') as { code: string; path: string[]; message: string }[];
    expect(results.map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`)).toEqual([]);
    expect(lint.status).toBe(0);
  }, 120_000);
});
