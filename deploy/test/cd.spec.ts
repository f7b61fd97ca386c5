import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPSET, BOT, VALUES, git, gitopsRepos, personPushes, runStep } from './support/gitops-repo.js';
import { parse } from 'yaml';
import { readYaml } from './support/manifests.js';
import { ROOT } from './support/paths.js';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}
const CD_FILE = join(ROOT, '.github/workflows/cd.yml');
const cd = readYaml<{ jobs: Record<string, Job> }>(CD_FILE);
const step = (job: string, name: string): Step => {
  const found = cd.jobs[job].steps.find((s) => s.name?.startsWith(name));
  if (!found?.run) throw new Error(`cd.yml ${job} has no step "${name}…" with a script`);
  return found;
};
const onMain = (origin: string, file: string): string => git(origin, 'show', `main:${file}`);
const tagIn = (text: string): string => (parse(text) as { global: { image: { tag: string } } }).global.image.tag;
const pinIn = (text: string): string => (parse(text) as { spec: { generators: { list: { elements: { revision: string }[] } }[] } }).spec.generators[0].list.elements[0].revision;

describe('CD GitOps commits and rollback (the workflow steps against a temporary repository)', () => {
  const bump = step('deploy-prod', 'Bump the image tag');
  const rollback = step('deploy-prod', 'Roll back on a failed smoke run');
  const jobEnv = { ENVIRONMENT: 'prod' };

  it('rolls back only its own pin when the tag bump changed nothing, never the person\'s commit at the head of main', () => {
    const repos = gitopsRepos();
    const pinBefore = pinIn(onMain(repos.origin, APPSET));
    const theirs = personPushes(repos.person, 'README.md', 'Flotilla, by Alice\n');
    // The tag is already deployed: values-prod.yaml does not change.
    const bumped = runStep(bump.run!, repos.cd, { ...jobEnv, TAG: tagIn(onMain(repos.origin, VALUES)) }, repos.bin);
    expect(bumped.status).toBe(0);
    // Pinned to the commit that put the tag there, not to whatever is main's head.
    expect(bumped.env.REVISION).toBe(git(repos.origin, 'log', '-1', '--format=%H', 'main', '--', VALUES));
    expect(bumped.env.REVISION).not.toBe(theirs);
    expect(pinIn(onMain(repos.origin, APPSET))).toBe(bumped.env.REVISION);

    const rolled = runStep(rollback.run!, repos.cd, { ...jobEnv, ...bumped.env }, repos.bin);
    expect(rolled.status).toBe(0);
    expect(onMain(repos.origin, 'README.md')).toBe('Flotilla, by Alice');
    expect(pinIn(onMain(repos.origin, APPSET))).toBe(pinBefore);
    expect(git(repos.origin, 'log', '-1', '--format=%s', 'main')).toMatch(/^rollback\(prod\): .*\[skip ci\]$/);
  });

  it('reverts the tag bump and the pin, keeping what a person pushed while the smoke test ran', () => {
    const repos = gitopsRepos();
    const [tagBefore, pinBefore] = [tagIn(onMain(repos.origin, VALUES)), pinIn(onMain(repos.origin, APPSET))];
    const bumped = runStep(bump.run!, repos.cd, { ...jobEnv, TAG: 'sha-0123456789ab' }, repos.bin);
    expect(bumped.status).toBe(0);
    expect(tagIn(onMain(repos.origin, VALUES))).toBe('sha-0123456789ab');
    expect(pinIn(onMain(repos.origin, APPSET))).toBe(bumped.env.REVISION);
    personPushes(repos.person, 'README.md', 'Flotilla, meanwhile\n');

    expect(runStep(rollback.run!, repos.cd, { ...jobEnv, ...bumped.env }, repos.bin).status).toBe(0);
    expect(tagIn(onMain(repos.origin, VALUES))).toBe(tagBefore);
    expect(pinIn(onMain(repos.origin, APPSET))).toBe(pinBefore);
    expect(onMain(repos.origin, 'README.md')).toBe('Flotilla, meanwhile');
    // Every commit the bot pushed says [skip ci]: none of them starts CI (and CD) again.
    const bots = git(repos.origin, 'log', `--author=${BOT.email}`, '--format=%s', 'main').split('\n');
    expect(bots).toHaveLength(3);
    for (const subject of bots) expect(subject).toMatch(/\[skip ci\]$/);
  });

  it('reverts nothing when the run pushed nothing (the same tag deployed twice)', () => {
    const repos = gitopsRepos();
    expect(runStep(bump.run!, repos.cd, { ...jobEnv, TAG: 'sha-0123456789ab' }, repos.bin).status).toBe(0);
    const again = runStep(bump.run!, repos.cd, { ...jobEnv, TAG: 'sha-0123456789ab' }, repos.bin);
    expect(again.status).toBe(0);
    const head = git(repos.origin, 'rev-parse', 'main');
    const rolled = runStep(rollback.run!, repos.cd, { ...jobEnv, ...again.env }, repos.bin);
    expect(rolled.status).toBe(0);
    expect(rolled.outputs.reverted ?? '').toBe('');
    expect(git(repos.origin, 'rev-parse', 'main')).toBe(head);
  });

  it('replays its commit on a main that moved since the checkout, and prints the SHA that landed', () => {
    const repos = gitopsRepos();
    const theirs = personPushes(repos.person, 'README.md', 'moved\n');
    writeFileSync(join(repos.cd, VALUES), readFileSync(join(repos.cd, VALUES), 'utf8').replace(/tag: .*/, 'tag: sha-moved'));
    const result = spawnSync('deploy/cd/gitops-commit.sh', ['deploy(prod): images sha-moved', VALUES], { cwd: repos.cd, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(git(repos.origin, 'rev-parse', 'main'));
    expect(git(repos.origin, 'rev-parse', 'main^')).toBe(theirs);
    const unchanged = spawnSync('deploy/cd/gitops-commit.sh', ['deploy(prod): nothing', VALUES], { cwd: repos.cd, encoding: 'utf8' });
    expect([unchanged.status, unchanged.stdout]).toEqual([0, '']);
  });

  it("refuses to revert a commit that is not the workflow's own", () => {
    const repos = gitopsRepos();
    const theirs = personPushes(repos.person, 'README.md', 'mine\n');
    git(repos.cd, 'pull', '--quiet', 'origin', 'main');
    const result = spawnSync('deploy/cd/gitops-rollback.sh', ['prod', theirs], { cwd: repos.cd, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("alice@example.org's");
    expect(git(repos.origin, 'rev-parse', 'main')).toBe(theirs);
  });
});

describe('CD workflow (.github/workflows/cd.yml)', () => {
  const scripts = Object.values(cd.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''));

  it('pins every action by full commit SHA, the tag written beside it', () => {
    const uses = readFileSync(CD_FILE, 'utf8').split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l)).map((l) => l.replace(/^\s*(-\s+)?uses:\s*/, ''));
    expect(uses.length).toBeGreaterThanOrEqual(6);
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it('does not start CI and CD again with its own pushes', () => {
    // Every commit, push and revert goes through the scripts that mark it [skip ci] (tested above)…
    for (const script of scripts) expect(script).not.toMatch(/\bgit\s+(commit|push|revert)\b/);
    expect(scripts.join('\n')).toContain('deploy/cd/gitops-commit.sh');
    // …which GitHub honours for push and pull_request, the only events CI runs on besides a manual start.
    const ci = readYaml<{ on: Record<string, unknown> }>(join(ROOT, '.github/workflows/ci.yml'));
    for (const event of Object.keys(ci.on)) expect(['push', 'pull_request', 'workflow_dispatch']).toContain(event);
    // And should CI run on a bot commit all the same (a re-run), CD builds nothing for it.
    expect(cd.jobs.images.if).toContain(`github.event.workflow_run.head_commit.author.email != '${BOT.email}'`);
  });
});
