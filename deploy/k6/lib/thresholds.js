/* global __ENV */
// The bars of the performance method as k6 thresholds. Latencies with an absolute bar use
// it; the others (status polling, the upload flow) take theirs from the environment.
import { int } from './config.js';

/** Vote ingest: p99 ≤ 25 ms (so p95 too); results reflect a vote within 1 s at p99. */
export const VOTE_THRESHOLDS = {
  'http_req_duration{name:vote}': [`p(95)<${int('VOTE_P95_MS', 25)}`, `p(99)<${int('VOTE_P99_MS', 25)}`],
  vote_freshness: [`p(99)<${int('FRESHNESS_P99_MS', 1000)}`],
};

/** Status polling: the bar is relative (p50 ≤ 2× a bare RPC round trip); p95 is checked against STATUS_P95_MS. */
export const STATUS_THRESHOLDS = {
  'http_req_duration{name:status}': [`p(95)<${int('STATUS_P95_MS', 50)}`],
};

/** Upload flow: zero failed teams; start → finished p95 is reported, and held to UPLOAD_P95_SECONDS when given. */
export const UPLOAD_THRESHOLDS = Object.assign(
  { 'checks{flow:upload}': ['rate==1'] },
  __ENV.UPLOAD_P95_SECONDS ? { upload_start_to_finished: [`p(95)<${int('UPLOAD_P95_SECONDS', 0) * 1000}`] } : {},
);
