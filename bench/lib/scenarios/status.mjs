// Status polling: `GET /validation/{id}/status` of a finished job, one request at a time on
// one keep-alive connection — the same shape as the bare RPC round trip beside it. The
// services' own histograms, read before and after, show where each request's time goes.
import { keepAliveGet } from '../load.mjs';
import { meansBetween, scrape } from '../metrics.mjs';
import { latencySummary, sequentialLatencies } from '../stats.mjs';

const HISTOGRAMS = [
  ['gateway', 'http_request_duration_seconds'],
  ['gateway', 'rpc_duration_seconds'],
  ['upload', 'rpc_server_duration_seconds'],
  ['validator', 'rpc_server_duration_seconds'],
];

export async function statusPolling(platform, { datasetId, token, seconds }) {
  const get = keepAliveGet(`${platform.service('gateway').url}/api/v1/validation/${datasetId}/status`, { authorization: `Bearer ${token}` });
  try {
    const before = await scrape(platform, HISTOGRAMS);
    const samples = await sequentialLatencies(seconds, get, { warmup: 50 });
    const after = await scrape(platform, HISTOGRAMS);
    // Only what the polling did: series with about as many observations as requests.
    const breakdown = Object.fromEntries(Object.entries(meansBetween(before, after)).filter(([, v]) => v.count >= samples.length / 2));
    return { calls: samples.length, latency: latencySummary(samples), breakdown };
  } finally {
    get.close();
  }
}
