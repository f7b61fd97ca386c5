/**
 * Writes the broker's definitions (a user per service, permissions from the topology):
 *
 *   node libs/messaging/dist/broker/definitions-cli.js --out definitions.json [--namespace NS] [--vhost /] [--dev]
 *
 * Passwords come from the environment: RABBITMQ_PASSWORD_<SERVICE> for each service
 * (e.g. RABBITMQ_PASSWORD_VOTE_CONSUMER) and, optionally, RABBITMQ_PASSWORD for the
 * operator's `flotilla` user. `--dev` fills the missing ones with the public development
 * values (`flotilla-dev-rabbitmq-<service>`); with NODE_ENV=production, `--dev` and any
 * development password (`flotilla-dev-…`) are refused.
 * Run by Compose and the chart before the broker starts, and by `scripts/rabbitmq-definitions.mjs`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BROKER_USE, brokerPasswordKey, rabbitmqDefinitions } from './broker-users.js';

/** Every public development password of the Compose file and the chart starts so. */
const DEV_PASSWORD_PREFIX = 'flotilla-dev-';

/** The public development password of a service's broker user. */
export function devBrokerPassword(service: string): string {
  return `${DEV_PASSWORD_PREFIX}rabbitmq-${service}`;
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    namespace: { type: 'string', default: '' },
    vhost: { type: 'string', default: '/' },
    dev: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

if (values.dev && process.env.NODE_ENV === 'production') fail('--dev (public development passwords) is refused with NODE_ENV=production');
const passwords: Record<string, string> = {};
const missing: string[] = [];
for (const { service } of BROKER_USE) {
  const password = process.env[brokerPasswordKey(service)] || (values.dev ? devBrokerPassword(service) : undefined);
  if (password) passwords[service] = password;
  else missing.push(brokerPasswordKey(service));
}
if (missing.length > 0) fail(`missing broker passwords: ${missing.join(', ')} (or --dev for the development values)`);
const operatorPassword = process.env.RABBITMQ_PASSWORD || undefined;
if (process.env.NODE_ENV === 'production') {
  const publicKeys = [...Object.entries(passwords).map(([service, p]) => [brokerPasswordKey(service), p] as const), ['RABBITMQ_PASSWORD', operatorPassword ?? ''] as const]
    .filter(([, password]) => password.startsWith(DEV_PASSWORD_PREFIX))
    .map(([key]) => key);
  if (publicKeys.length > 0) fail(`NODE_ENV=production refuses the public development passwords of ${publicKeys.join(', ')}`);
}
const json = `${JSON.stringify(rabbitmqDefinitions({ namespace: values.namespace, vhost: values.vhost, passwords, operatorPassword }), null, 2)}\n`;
if (values.out) {
  writeFileSync(values.out, json, { mode: 0o644 });
  process.stdout.write(`wrote ${BROKER_USE.length} service users${operatorPassword ? ' and the operator' : ''} to ${values.out}\n`);
} else process.stdout.write(json);
