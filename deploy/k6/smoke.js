// A quick pass over every scenario, for the deployment gate: health, a few votes, the
// results, one team's whole upload flow, status polls, one freshness probe. Every check
// must pass; it takes well under a minute on a healthy deployment.
//
//   k6 run -e BASE_URL=https://flotilla.example.com -e ADMIN_EMAIL=… -e ADMIN_PASSWORD=… deploy/k6/smoke.js
import http from 'k6/http';
import { check } from 'k6';
import { adminLogin, get, tokenFor, withTokens } from './lib/api.js';
import { BASE_URL, RUN_ID } from './lib/config.js';
import { createPoll, freshnessProbe, pollStatus, uploadFlow, vote } from './lib/flows.js';
import { oneTeamWithMembers } from './lib/setup.js';

export const options = {
  setupTimeout: '5m',
  scenarios: {
    smoke: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: '5m' },
  },
  thresholds: { checks: ['rate==1'], http_req_failed: ['rate<0.01'] },
};

export function setup() {
  const admin = adminLogin();
  const members = withTokens(oneTeamWithMembers(admin, 2, 'smoke'));
  return { voter: members[0], uploader: members[1], probePoll: createPoll(admin, `${RUN_ID}-smoke`, ['a', 'b']) };
}

export default function (data) {
  check(http.get(`${BASE_URL}/health/ready`, { tags: { name: 'health' } }), { 'health: ready (200)': (r) => r.status === 200 });
  check(get('/polls', tokenFor(data.voter), 'polls'), { 'polls: 200': (r) => r.status === 200 });
  for (let i = 0; i < 5; i++) vote([data.voter], 'cats-vs-dogs', ['cats', 'dogs']);
  check(get('/polls/cats-vs-dogs/results', tokenFor(data.voter), 'results'), { 'results: 200': (r) => r.status === 200 });
  freshnessProbe(data.voter, data.probePoll);
  const datasetId = uploadFlow(data.uploader, 2, 1, true);
  for (let i = 0; i < 3; i++) pollStatus(data.uploader, datasetId);
  if (datasetId) {
    const del = http.del(`${BASE_URL}/api/v1/datasets/${datasetId}`, null, { headers: { Authorization: `Bearer ${tokenFor(data.uploader)}` }, tags: { name: 'dataset-delete' } });
    check(del, { 'dataset deleted: 204': (r) => r.status === 204 });
  }
}
