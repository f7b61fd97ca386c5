// An OTLP/HTTP endpoint that takes every export and keeps nothing but counts: what the
// services pay for tracing, without a collector's own cost on the same machine.
//
//   node bench/lib/servers/otlp-sink.mjs [port]     (default 4318; prints the endpoint)
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node bench/run.mjs --only votes-ingest
//
// On SIGINT/SIGTERM it prints how many exports and bytes it took.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 4318);
let exports = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    exports += 1;
    const json = String(req.headers['content-type'] ?? '').includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${port}\n`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    process.stdout.write(`${exports} exports, ${(bytes / 1024 / 1024).toFixed(1)} MiB\n`);
    process.exit(0);
  });
}
