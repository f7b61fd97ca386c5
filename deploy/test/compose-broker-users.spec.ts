import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Naming } from '@flotilla/config';
import { BROKER_USE, brokerPasswordKey, brokerUser } from '@flotilla/messaging';
import { readYaml } from './support/manifests.js';
import { ROOT, SERVICES } from './support/paths.js';

/** `${VAR:-default}` → default, `${VAR}` → '' (Compose's interpolation with nothing set). */
function withDefaults(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_whole, _name: string, fallback: string | undefined) => fallback ?? '');
}

const naming = new Naming('');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const compose = readYaml<{ services: Record<string, any> }>(join(ROOT, 'docker-compose.full.yml'));
const env = (service: string): Record<string, string> => Object.fromEntries(Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));

describe('docker-compose.full.yml: each service logs in to RabbitMQ as its own user', () => {
  it('gives each service an AMQP_URL with its own user and password, the one the definitions are generated with', () => {
    const definitions = env('rabbitmq-definitions');
    const passwords = new Set<string>();
    for (const { name } of SERVICES) {
      const url = new URL(env(name).AMQP_URL!);
      expect({ name, user: url.username, host: url.hostname }).toEqual({ name, user: brokerUser(naming, name), host: 'rabbitmq' });
      expect({ name, password: decodeURIComponent(url.password) }).toEqual({ name, password: definitions[brokerPasswordKey(name)] });
      passwords.add(url.password);
    }
    expect(passwords.size).toBe(SERVICES.length);
  });

  it('generates the definitions from the topology before the broker starts, and the broker loads them', () => {
    const generator = compose.services['rabbitmq-definitions'];
    expect(generator?.command?.join(' ')).toContain('libs/messaging/dist/broker/definitions-cli.js --out /definitions/definitions.json');
    expect(generator.command).not.toContain('--dev');
    // Same mode as the services: with NODE_ENV=production the development passwords are refused.
    expect(generator.environment.NODE_ENV).toBe(compose.services.gateway.environment.NODE_ENV ?? '${NODE_ENV:-development}');
    for (const { service } of BROKER_USE) expect(Object.keys(generator.environment)).toContain(brokerPasswordKey(service));
    const broker = compose.services.rabbitmq;
    expect(broker.depends_on?.['rabbitmq-definitions']).toEqual({ condition: 'service_completed_successfully' });
    const mounts: string[] = broker.volumes;
    expect(mounts).toContain('rabbitmq-definitions:/etc/rabbitmq/definitions:ro');
    const conf = mounts.find((m) => m.endsWith(':/etc/rabbitmq/conf.d/30-definitions.conf:ro'))!;
    expect(readFileSync(join(ROOT, conf.split(':')[0]!), 'utf8')).toContain('load_definitions = /etc/rabbitmq/definitions/definitions.json');
  });
});
