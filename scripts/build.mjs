// Builds every library and service with TypeScript project references.
// Projects are discovered from their folders, so adding a service adds nothing here.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const projects = ['libs', 'services', 'tools'].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .map((name) => join(dir, name))
        .filter((p) => existsSync(join(root, p, 'tsconfig.json')))
    : [],
);
const extra = process.argv.slice(2);
const result = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-b', ...projects, ...extra],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
