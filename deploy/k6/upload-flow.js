/* global __VU */
// The upload flow of TEAMS teams at once (24 by default, as in the seed): each team's
// member logs in, starts a dataset of IMAGES real PNG images and a manifest, PUTs every
// file to its presigned URL, completes, and polls the status with the Retry-After it is
// given until the validation is finished — it must pass. Every step is checked; the
// time from start to the finished status is `upload_start_to_finished`.
//
//   k6 run -e BASE_URL=https://flotilla.example.com -e ADMIN_EMAIL=… -e ADMIN_PASSWORD=… \
//          -e TEAMS=240 deploy/k6/upload-flow.js
import { adminLogin } from './lib/api.js';
import { int } from './lib/config.js';
import { uploadFlow } from './lib/flows.js';
import { teamsWithOneMember } from './lib/setup.js';
import { UPLOAD_THRESHOLDS } from './lib/thresholds.js';

const TEAMS = int('TEAMS', 24);
const IMAGES = int('IMAGES', 4);

export const options = {
  setupTimeout: '15m',
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    upload: { executor: 'per-vu-iterations', vus: TEAMS, iterations: 1, maxDuration: '20m', tags: { flow: 'upload' } },
  },
  thresholds: Object.assign({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, UPLOAD_THRESHOLDS),
};

export function setup() {
  // Members log in in their own VU: the flow begins with the login.
  return { members: teamsWithOneMember(adminLogin(), TEAMS, 'upload') };
}

export default function (data) {
  uploadFlow(data.members[__VU - 1], IMAGES, __VU);
}
