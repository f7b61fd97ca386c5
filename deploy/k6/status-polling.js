/* global __ENV */
// Status polling: GET /validation/{id}/status of a finished dataset at RATE requests/s
// for DURATION_SECONDS, as clients do (If-None-Match with the last ETag: 200 or 304).
// setup() uploads that dataset through the whole flow; teardown() deletes it.
//
//   k6 run -e BASE_URL=https://flotilla.example.com -e ADMIN_EMAIL=… -e ADMIN_PASSWORD=… \
//          -e RATE=200 deploy/k6/status-polling.js
import http from 'k6/http';
import { fail } from 'k6';
import { adminLogin, params, tokenFor, withTokens } from './lib/api.js';
import { API, int } from './lib/config.js';
import { pollStatus, uploadFlow } from './lib/flows.js';
import { teamsWithOneMember } from './lib/setup.js';
import { STATUS_THRESHOLDS } from './lib/thresholds.js';

const RATE = int('RATE', 100);

export const options = {
  setupTimeout: '10m',
  scenarios: {
    status: {
      executor: 'constant-arrival-rate',
      exec: 'poll',
      rate: RATE,
      timeUnit: '1s',
      duration: `${int('DURATION_SECONDS', 120)}s`,
      preAllocatedVUs: Math.max(5, Math.ceil(RATE / 20)),
      maxVUs: Math.max(20, RATE),
    },
  },
  thresholds: Object.assign({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] }, STATUS_THRESHOLDS),
};

export function setup() {
  const [member] = withTokens(teamsWithOneMember(adminLogin(), 1, 'status'));
  const datasetId = __ENV.DATASET_ID || uploadFlow(member, 2, 1, true);
  if (!datasetId) fail('the dataset to poll could not be uploaded');
  return { member, datasetId };
}

export function poll(data) {
  pollStatus(data.member, data.datasetId);
}

export function teardown(data) {
  if (!__ENV.DATASET_ID && !__ENV.KEEP_DATASETS) http.del(`${API}/datasets/${data.datasetId}`, null, params(tokenFor(data.member), 'dataset-delete'));
}
