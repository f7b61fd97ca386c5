/* global __ENV */
// Votes at a ramping arrival rate: authenticated POST /polls/{id}/votes by VOTERS members,
// ramping to RATE votes/s, held, then down; beside it one VU measures freshness (time
// from a 202 to the results showing the vote).
//
//   k6 run -e BASE_URL=https://flotilla.example.com -e ADMIN_EMAIL=… -e ADMIN_PASSWORD=… \
//          -e RATE=500 deploy/k6/votes.js
import { sleep } from 'k6';
import { adminLogin, withTokens } from './lib/api.js';
import { int, RUN_ID } from './lib/config.js';
import { createPoll, freshnessProbe, vote } from './lib/flows.js';
import { oneTeamWithMembers } from './lib/setup.js';
import { VOTE_THRESHOLDS } from './lib/thresholds.js';

const RATE = int('RATE', 300);
const VOTERS = int('VOTERS', 50);
const RAMP = `${int('RAMP_SECONDS', 60)}s`;
const HOLD = `${int('HOLD_SECONDS', 180)}s`;
const POLL_ID = __ENV.POLL_ID || 'cats-vs-dogs';

export const options = {
  setupTimeout: '10m',
  scenarios: {
    votes: {
      executor: 'ramping-arrival-rate',
      exec: 'votes',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 20)),
      maxVUs: Math.max(50, RATE),
      stages: [
        { duration: RAMP, target: RATE },
        { duration: HOLD, target: RATE },
        { duration: '20s', target: 0 },
      ],
    },
    freshness: { executor: 'constant-vus', exec: 'freshness', vus: 1, duration: `${int('RAMP_SECONDS', 60) + int('HOLD_SECONDS', 180)}s` },
  },
  thresholds: Object.assign({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, VOTE_THRESHOLDS),
};

export function setup() {
  const admin = adminLogin();
  const members = withTokens(oneTeamWithMembers(admin, VOTERS + 1, 'voters'));
  return { voters: members.slice(1), probe: members[0], probePoll: createPoll(admin, `${RUN_ID}-fresh`, ['a', 'b']) };
}

export function votes(data) {
  vote(data.voters, POLL_ID, ['cats', 'dogs']);
}

export function freshness(data) {
  freshnessProbe(data.probe, data.probePoll);
  sleep(0.2);
}
