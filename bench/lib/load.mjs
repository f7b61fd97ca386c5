// HTTP load with autocannon: authenticated votes, as the vote scenarios and the bare
// route use them, and a summary of its result.
import autocannon from 'autocannon';
import http from 'node:http';

/**
 * Drives `POST /api/v1/polls/{pollId}/votes` at `url` with `connections` connections for
 * `seconds` (at `overallRate` requests/s when given, else as fast as it answers), each
 * request signed by the next of `tokens` and voting for the next of `options`.
 */
export function voteLoad(url, { connections, seconds, tokens, pollId = 'cats-vs-dogs', options = ['cats', 'dogs'], overallRate }) {
  let next = 0;
  return autocannon({
    url,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate: Math.max(1, Math.round(overallRate)) } : {}),
    requests: [
      {
        method: 'POST',
        path: `/api/v1/polls/${pollId}/votes`,
        setupRequest: (req) => {
          const i = next++;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % tokens.length]}`, 'user-agent': 'flotilla-bench' },
            body: JSON.stringify({ option: options[i % options.length] }),
          };
        },
      },
    ],
  });
}

/** The figures of an autocannon result the report uses. */
export function loadSummary(result) {
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    total: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
  };
}

/** One keep-alive connection, for sequential requests whose latency is measured to the sub-millisecond. */
export function keepAliveGet(url, headers) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const get = () =>
    new Promise((resolve, reject) => {
      const req = http.get({ hostname: target.hostname, port: target.port, path: target.pathname + target.search, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
  get.close = () => agent.destroy();
  return get;
}
