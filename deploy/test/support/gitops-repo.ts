import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { tempDir } from './promtool.js';

export const BOT = { name: 'flotilla-cd', email: 'flotilla-cd@users.noreply.github.com' };
export const VALUES = 'deploy/helm/flotilla/values-prod.yaml';
export const APPSET = 'deploy/argocd/apps/applicationset-prod.yaml';

/**
 * `yq -i '.a.b[0].c = "value"' FILE`, the one form cd.yml uses, done with the yaml
 * package (comments kept): GitHub's runners have mikefarah's yq, Debian's yq is another
 * program, and this is what lets the workflow's own step scripts run here.
 */
const YQ = `#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from '${join(ROOT, 'node_modules/yaml/dist/index.js')}';
const [flag, expr, file] = process.argv.slice(2);
const m = /^\\.(\\S+)\\s*=\\s*"([^"]*)"$/.exec(expr ?? '');
if (flag !== '-i' || !m || !file) { console.error('yq (test): only -i \\'.path = "value"\\' FILE'); process.exit(2); }
const path = m[1].split(/\\.|\\[(\\d+)\\]/).filter((p) => p !== undefined && p !== '').map((p) => (/^\\d+$/.test(p) ? Number(p) : p));
const text = readFileSync(file, 'utf8');
const node = parseDocument(text).getIn(path, true);
if (!node?.range) { console.error('yq (test): no scalar at ' + m[1]); process.exit(1); }
// Only the scalar changes, as yq leaves the rest of the file alone; the same value writes nothing.
if (node.value !== m[2]) writeFileSync(file, text.slice(0, node.range[0]) + JSON.stringify(m[2]) + text.slice(node.range[1]));
`;

export const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** A bare "GitHub" repository holding main, a clone for the CD job (as the bot) and one for a person. */
export function gitopsRepos(): { origin: string; cd: string; person: string; bin: string; dir: string } {
  const dir = tempDir('gitops');
  const origin = join(dir, 'origin.git');
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  const seed = join(dir, 'seed');
  git(dir, 'clone', '--quiet', origin, seed);
  for (const file of [VALUES, APPSET]) {
    mkdirSync(join(seed, file, '..'), { recursive: true });
    writeFileSync(join(seed, file), readFileSync(join(ROOT, file), 'utf8'));
  }
  mkdirSync(join(seed, 'deploy/cd'), { recursive: true });
  for (const script of ['gitops-commit.sh', 'gitops-rollback.sh', 'gitops-push.sh']) {
    writeFileSync(join(seed, 'deploy/cd', script), readFileSync(join(ROOT, 'deploy/cd', script)));
    chmodSync(join(seed, 'deploy/cd', script), 0o755);
  }
  writeFileSync(join(seed, 'README.md'), 'Flotilla\n');
  git(seed, '-c', 'user.name=seed', '-c', 'user.email=seed@example.org', 'add', '.');
  git(seed, '-c', 'user.name=seed', '-c', 'user.email=seed@example.org', 'commit', '--quiet', '-m', 'seed');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  const clone = (name: string, user: { name: string; email: string }): string => {
    const path = join(dir, name);
    git(dir, 'clone', '--quiet', '--branch', 'main', origin, path);
    git(path, 'config', 'user.name', user.name);
    git(path, 'config', 'user.email', user.email);
    return path;
  };
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'yq'), YQ);
  chmodSync(join(bin, 'yq'), 0o755);
  return { origin, cd: clone('cd', BOT), person: clone('person', { name: 'Alice', email: 'alice@example.org' }), bin, dir };
}

/** A person's commit pushed to main: a change of their own, unrelated to the deployment. */
export function personPushes(person: string, file: string, text: string): string {
  git(person, 'pull', '--quiet', '--rebase', 'origin', 'main');
  writeFileSync(join(person, file), text);
  git(person, 'add', file);
  git(person, 'commit', '--quiet', '-m', `docs: ${file}`);
  git(person, 'push', '--quiet', 'origin', 'HEAD:main');
  return git(person, 'rev-parse', 'HEAD');
}

/**
 * Runs a step's `run` script the way GitHub does (bash -e -o pipefail) in `cwd`, with
 * GITHUB_ENV and GITHUB_OUTPUT files; returns the variables it set in each.
 */
export function runStep(script: string, cwd: string, env: Record<string, string>, bin: string) {
  const dir = tempDir('step');
  const files = { GITHUB_ENV: join(dir, 'env'), GITHUB_OUTPUT: join(dir, 'output') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME ?? dir, ...files, ...env },
  });
  const read = (f: string): Record<string, string> =>
    Object.fromEntries(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { status: result.status, output: `${result.stdout}${result.stderr}`, env: read(files.GITHUB_ENV), outputs: read(files.GITHUB_OUTPUT) };
}
