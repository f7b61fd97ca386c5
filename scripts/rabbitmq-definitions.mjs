// Writes RabbitMQ definitions (a user per service, each allowed only its own queues and
// the exchanges it uses, derived from the topology) for `load_definitions` or
// `rabbitmqctl import_definitions`:
//
//   RABBITMQ_PASSWORD_GATEWAY=… … node scripts/rabbitmq-definitions.mjs --out definitions.json
//   node scripts/rabbitmq-definitions.mjs --dev      (development passwords, to stdout)
//
// Options and variables: libs/messaging/src/broker/definitions-cli.ts.
import { existsSync } from 'node:fs';

const cli = new URL('../libs/messaging/dist/broker/definitions-cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('Build first: node scripts/build.mjs (or npx tsc -b libs/messaging)');
  process.exit(1);
}
await import(cli.href);
