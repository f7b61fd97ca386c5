// Status polling: `GET /validation/{id}/status` of a finished job, one request at a time on
// one keep-alive connection — the same shape as the bare RPC round trip beside it.
import { keepAliveGet } from '../load.mjs';
import { latencySummary, sequentialLatencies } from '../stats.mjs';

export async function statusPolling(platform, { datasetId, token, seconds }) {
  const get = keepAliveGet(`${platform.service('gateway').url}/api/v1/validation/${datasetId}/status`, { authorization: `Bearer ${token}` });
  try {
    const samples = await sequentialLatencies(seconds, get, { warmup: 50 });
    return { calls: samples.length, latency: latencySummary(samples) };
  } finally {
    get.close();
  }
}
