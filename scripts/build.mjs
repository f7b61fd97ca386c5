// Builds every library, service and tool with TypeScript project references, then the
// admin web console with Vite. Projects are discovered from their folders, so adding a
// service adds nothing here.
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
// The API client's types come from the committed OpenAPI snapshot: regenerated before tsc,
// so a change of the API that breaks a caller (the CLI, the console) breaks this build.
const clientTypes = join(root, 'libs/api-client/generate.mjs');
if (existsSync(clientTypes)) {
  const generate = spawnSync(process.execPath, [clientTypes], { cwd: root, stdio: 'inherit' });
  if (generate.status !== 0) {
    console.error('build: the API client types could not be generated from libs/api-client/openapi.json (above).');
    process.exit(generate.status ?? 1);
  }
}
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', ...projects, ...extra], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// The console is a browser app: bundled by Vite into services/admin/web/dist, which the admin service serves.
const consoleConfig = join(root, 'services/admin/web/vite.config.ts');
if (existsSync(consoleConfig) && !extra.includes('--noEmit')) {
  // Vite only strips types; the console's own tsconfig checks them.
  const check = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'services/admin/web/tsconfig.json')], { cwd: root, stdio: 'inherit' });
  if (check.status !== 0) {
    console.error('build: the admin console has type errors (above).');
    process.exit(check.status ?? 1);
  }
  const vite = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', consoleConfig, '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (vite.status !== 0) {
    console.error('build: the admin console did not build (Vite errors above).');
    process.exit(vite.status ?? 1);
  }
}
