// What setup() creates through the admin API: teams with members. The API has no
// deletion of teams or users, so they stay after the run (named after RUN_ID).
import { check, fail } from 'k6';
import { post } from './api.js';
import { MEMBER_PASSWORD, RUN_ID } from './config.js';

function createTeam(adminToken, name) {
  const res = post('/admin/teams', { name }, adminToken, 'admin-teams');
  if (!check(res, { 'setup: team created (201)': (r) => r.status === 201 })) fail(`POST /admin/teams answered ${res.status}: ${res.body}`);
  return res.json('id');
}

function createMember(adminToken, teamId, email) {
  const res = post('/admin/users', { email, password: MEMBER_PASSWORD, teamId, role: 'member' }, adminToken, 'admin-users');
  if (!check(res, { 'setup: member created (201)': (r) => r.status === 201 })) fail(`POST /admin/users answered ${res.status}: ${res.body}`);
  return { email, password: MEMBER_PASSWORD, teamId };
}

/** `count` teams with one member each: `[{email, password, teamId}]`. */
export function teamsWithOneMember(adminToken, count, label) {
  const members = [];
  for (let i = 0; i < count; i++) {
    const name = `${RUN_ID}-${label}-${i}`;
    members.push(createMember(adminToken, createTeam(adminToken, name), `${name}@k6.flotilla.test`));
  }
  return members;
}

/** One team with `count` members. */
export function oneTeamWithMembers(adminToken, count, label) {
  const teamId = createTeam(adminToken, `${RUN_ID}-${label}`);
  const members = [];
  for (let i = 0; i < count; i++) members.push(createMember(adminToken, teamId, `${RUN_ID}-${label}-${i}@k6.flotilla.test`));
  return members;
}
