import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

describe('generated schema', () => {
  it('is current with the committed OpenAPI snapshot', () => {
    const root = new URL('../../../', import.meta.url).pathname;
    const check = spawnSync(process.execPath, ['libs/api-client/generate.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
