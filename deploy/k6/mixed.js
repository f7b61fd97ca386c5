/* global __ENV, __VU */
// The scenarios together, as a deployment sees them: votes at a ramping arrival rate,
// TEAMS teams running the upload flow (each team one VU, one dataset after another),
// status polling at a constant rate, and the freshness probe.
//
//   k6 run -e BASE_URL=https://flotilla.example.com -e ADMIN_EMAIL=… -e ADMIN_PASSWORD=… deploy/k6/mixed.js
import { sleep } from 'k6';
import { adminLogin, withTokens } from './lib/api.js';
import { int, RUN_ID } from './lib/config.js';
import { createPoll, freshnessProbe, pollStatus, uploadFlow, vote } from './lib/flows.js';
import { oneTeamWithMembers, teamsWithOneMember } from './lib/setup.js';
import { STATUS_THRESHOLDS, UPLOAD_THRESHOLDS, VOTE_THRESHOLDS } from './lib/thresholds.js';

const VOTE_RATE = int('VOTE_RATE', 200);
const STATUS_RATE = int('STATUS_RATE', 50);
const TEAMS = int('TEAMS', 24);
const SECONDS = int('DURATION_SECONDS', 300);
const POLL_ID = __ENV.POLL_ID || 'cats-vs-dogs';

export const options = {
  setupTimeout: '15m',
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    votes: {
      executor: 'ramping-arrival-rate',
      exec: 'votes',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(10, Math.ceil(VOTE_RATE / 20)),
      maxVUs: Math.max(50, VOTE_RATE),
      stages: [
        { duration: `${Math.round(SECONDS / 5)}s`, target: VOTE_RATE },
        { duration: `${SECONDS - Math.round(SECONDS / 5)}s`, target: VOTE_RATE },
      ],
    },
    uploads: { executor: 'constant-vus', exec: 'uploads', vus: TEAMS, duration: `${SECONDS}s`, gracefulStop: '5m', tags: { flow: 'upload' } },
    status: {
      executor: 'constant-arrival-rate',
      exec: 'status',
      rate: STATUS_RATE,
      timeUnit: '1s',
      duration: `${SECONDS}s`,
      preAllocatedVUs: Math.max(5, Math.ceil(STATUS_RATE / 20)),
      maxVUs: Math.max(20, STATUS_RATE),
    },
    freshness: { executor: 'constant-vus', exec: 'freshness', vus: 1, duration: `${SECONDS}s` },
  },
  thresholds: Object.assign({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, VOTE_THRESHOLDS, STATUS_THRESHOLDS, UPLOAD_THRESHOLDS),
};

export function setup() {
  const admin = adminLogin();
  const voters = withTokens(oneTeamWithMembers(admin, int('VOTERS', 50) + 1, 'voters'));
  const teams = teamsWithOneMember(admin, TEAMS, 'upload');
  const [poller] = withTokens(teamsWithOneMember(admin, 1, 'status'));
  const datasetId = uploadFlow(poller, 2, 1, true);
  return { voters: voters.slice(1), probe: voters[0], probePoll: createPoll(admin, `${RUN_ID}-fresh`, ['a', 'b']), teams, poller, datasetId };
}

export function votes(data) {
  vote(data.voters, POLL_ID, ['cats', 'dogs']);
}

let round = 0;
export function uploads(data) {
  // Each VU is one team; its datasets follow one another.
  uploadFlow(data.teams[(__VU - 1) % data.teams.length], int('IMAGES', 4), __VU * 1000 + round++);
}

export function status(data) {
  if (data.datasetId) pollStatus(data.poller, data.datasetId);
}

export function freshness(data) {
  freshnessProbe(data.probe, data.probePoll);
  sleep(0.2);
}
