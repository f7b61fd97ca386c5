import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { byKind, readManifests, readYaml, type K8sObject } from './support/manifests.js';
import { ROOT } from './support/paths.js';

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  steps: Step[];
}
interface Role {
  project: string;
  name: string;
  description?: string;
  policies: string[];
}
/** One Argo CD CLI call in a workflow step: what it does to which app, and the secret its token comes from. */
interface Call {
  where: string;
  action: 'get' | 'sync';
  app: string;
  secret: string;
}

const ARGOCD = join(ROOT, 'deploy/argocd');
const VERB_ACTION: Record<string, Call['action']> = { sync: 'sync', wait: 'get', get: 'get' };

/** Argo CD's RBAC glob: `*` stands for any text. */
const glob = (pattern: string, value: string): boolean => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`).test(value);

/** Whether a project role's policies allow `action` on `project/app` (a deny wins). */
function allows(role: Role, action: string, project: string, app: string): boolean {
  const matching = role.policies
    .map((p) => p.split(',').map((s) => s.trim()))
    .filter(([, subject, resource, act, object]) => subject === `proj:${role.project}:${role.name}` && resource === 'applications' && glob(act, action) && glob(object, `${project}/${app}`));
  // A project role's token reaches its own project's apps only, whatever the policy says.
  return role.project === project && matching.some((p) => p[5] === 'allow') && !matching.some((p) => p[5] === 'deny');
}

/** Every `argocd app sync|wait|get APP` in cd.yml, with ${ENVIRONMENT} put in from the job. */
function cdCalls(): Call[] {
  const cd = readYaml<{ jobs: Record<string, Job> }>(join(ROOT, '.github/workflows/cd.yml'));
  const calls: Call[] = [];
  for (const [jobName, job] of Object.entries(cd.jobs)) {
    for (const step of job.steps) {
      for (const m of (step.run ?? '').matchAll(/argocd app (\w+) "?([\w${}-]+)"?/g)) {
        const where = `${jobName} "${step.name}"`;
        const token = step.env?.ARGOCD_AUTH_TOKEN ?? job.env?.ARGOCD_AUTH_TOKEN ?? '';
        const [, secret] = /^\$\{\{ secrets\.(\w+) \}\}$/.exec(token) ?? [];
        expect(`${where}: ${m[0]} with token ${token}`).toMatch(/with token \$\{\{ secrets\.\w+ \}\}$/);
        expect(`${where}: argocd app ${m[1]}`).toMatch(/argocd app (sync|wait|get)$/);
        calls.push({ where, action: VERB_ACTION[m[1]], app: m[2].replace('${ENVIRONMENT}', job.env?.ENVIRONMENT ?? '?'), secret });
      }
    }
  }
  return calls;
}

describe("CD's Argo CD tokens (deploy/argocd roles against .github/workflows/cd.yml)", () => {
  let objects: K8sObject[];
  let appProject: Map<string, string>;
  let roles: Role[];
  let calls: Call[];
  beforeAll(() => {
    objects = readdirSync(ARGOCD, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => readManifests(join(ARGOCD, f)));
    // The apps: the Applications, and those each ApplicationSet generates from its elements.
    appProject = new Map(byKind(objects, 'Application').map((a) => [a.metadata.name, a.spec.project as string]));
    for (const set of byKind(objects, 'ApplicationSet')) {
      for (const element of set.spec.generators[0].list.elements as Record<string, string>[]) {
        const name = (set.spec.template.metadata.name as string).replace(/\{\{\.(\w+)\}\}/g, (_, k: string) => element[k]);
        appProject.set(name, set.spec.template.spec.project);
      }
    }
    roles = byKind(objects, 'AppProject').flatMap((p) => (p.spec.roles ?? []).map((r: Omit<Role, 'project'>) => ({ ...r, project: p.metadata.name, policies: r.policies ?? [] })));
    calls = cdCalls();
  });
  const roleOf = (secret: string): Role => {
    const found = roles.filter((r) => r.description?.includes(`(secret ${secret})`));
    expect(`${secret}: ${found.map((r) => `${r.project}:${r.name}`).length} role(s)`).toBe(`${secret}: 1 role(s)`);
    return found[0];
  };

  it('syncs the root app and both environments', () => {
    expect([...new Set(calls.filter((c) => c.action === 'sync').map((c) => c.app))].sort()).toEqual(['flotilla-dev', 'flotilla-prod', 'flotilla-root']);
  });

  it('uses, for every Argo CD call, a token whose role allows it on that app', () => {
    const refused = calls.filter((c) => {
      const project = appProject.get(c.app);
      return !project || !allows(roleOf(c.secret), c.action, project, c.app);
    });
    expect(refused.map((c) => `${c.where}: ${c.action} ${c.app} with ${c.secret}`)).toEqual([]);
  });

  it('gives each CD role exactly the apps CD syncs with its token, and only get and sync', () => {
    for (const secret of new Set(calls.map((c) => c.secret))) {
      const role = roleOf(secret);
      const maySync = [...appProject].filter(([app, project]) => allows(role, 'sync', project, app)).map(([app]) => app).sort();
      const synced = [...new Set(calls.filter((c) => c.secret === secret && c.action === 'sync').map((c) => c.app))].sort();
      expect(`${secret}: ${maySync.join(' ')}`).toBe(`${secret}: ${synced.join(' ')}`);
      for (const action of ['create', 'update', 'delete', 'override', 'action/*', '*']) {
        expect(`${secret} ${action}: ${[...appProject].some(([app, project]) => allows(role, action, project, app))}`).toBe(`${secret} ${action}: false`);
      }
    }
  });

  it('would notice a token whose role cannot sync the app (another project, or not named)', () => {
    const deployer: Role = { project: 'flotilla', name: 'deployer', policies: ['p, proj:flotilla:deployer, applications, sync, flotilla/*, allow'] };
    expect(allows(deployer, 'sync', 'flotilla', 'flotilla-prod')).toBe(true);
    expect(allows(deployer, 'sync', 'flotilla-root', 'flotilla-root')).toBe(false);
    expect(allows({ ...deployer, policies: ['p, proj:flotilla:deployer, applications, sync, flotilla-root/*, allow'] }, 'sync', 'flotilla-root', 'flotilla-root')).toBe(false);
    expect(allows({ ...deployer, policies: [...deployer.policies, 'p, proj:flotilla:deployer, applications, sync, flotilla/flotilla-prod, deny'] }, 'sync', 'flotilla', 'flotilla-prod')).toBe(false);
  });
});
