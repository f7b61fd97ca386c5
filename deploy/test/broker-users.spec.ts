import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { amqpUrlKey, BROKER_USE, brokerPasswordKey, brokerUser } from '@flotilla/messaging';
import { Naming } from '@flotilla/config';
import { helmTemplate } from './support/helm.js';
import { podSpec, type K8sObject } from './support/manifests.js';
import { CHART, SERVICES, VALUES_FILES } from './support/paths.js';

/** What a container reads from the Secret, by variable name. */
function secretKeys(container: { env?: { name: string; valueFrom?: { secretKeyRef?: { key: string } } }[] }): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!.key]));
}

const naming = new Naming('');

describe('each service logs in to RabbitMQ as its own user (deploy/helm/flotilla)', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const file of VALUES_FILES) rendered.set(file, helmTemplate(CHART, join(CHART, file), 'flotilla'));
  });

  it('knows every deployed service in the broker definitions', () => {
    expect(BROKER_USE.map((u) => u.service).sort()).toEqual(SERVICES.map((s) => s.name).sort());
  });

  it.each(VALUES_FILES)('with %s, reads AMQP_URL from its own secret key, in every pod and migration job', (file) => {
    const objects = rendered.get(file)!;
    const keys = new Map<string, string>();
    for (const { name } of SERVICES) {
      const workloads = objects.filter((o) => ['Deployment', 'Job'].includes(o.kind) && o.metadata.labels?.['app.kubernetes.io/name'] === name);
      expect(workloads.some((o) => o.kind === 'Deployment')).toBe(true);
      for (const workload of workloads) {
        for (const container of podSpec(workload).containers) {
          expect({ workload: `${workload.kind}/${workload.metadata.name}`, AMQP_URL: secretKeys(container).AMQP_URL }).toEqual({ workload: `${workload.kind}/${workload.metadata.name}`, AMQP_URL: amqpUrlKey(name) });
        }
      }
      keys.set(name, amqpUrlKey(name));
    }
    expect(new Set(keys.values()).size).toBe(SERVICES.length);
  });

  describe('values-dev.yaml (the in-cluster broker)', () => {
    let objects: K8sObject[];
    beforeAll(() => {
      objects = rendered.get('values-dev.yaml')!;
    });

    it("gives each service's AMQP_URL its own user and password, the one the broker's definitions get", () => {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'flotilla-secrets')! as K8sObject & { stringData: Record<string, string> };
      const passwords = new Set<string>();
      for (const { service } of BROKER_USE) {
        const url = new URL(secret.stringData[amqpUrlKey(service)]!);
        expect({ service, user: url.username }).toEqual({ service, user: brokerUser(naming, service) });
        expect(decodeURIComponent(url.password)).toBe(secret.stringData[brokerPasswordKey(service)]);
        passwords.add(url.password);
      }
      expect(passwords.size).toBe(BROKER_USE.length);
      expect(secret.stringData.AMQP_URL).toBeUndefined();
    });

    it('generates the definitions from the topology before the broker starts, with every password from the Secret, and loads them', () => {
      const broker = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'flotilla-rabbitmq')!;
      const spec = podSpec(broker);
      const init = spec.initContainers.find((c: { name: string }) => c.name === 'definitions');
      expect(init.command.join(' ')).toContain('libs/messaging/dist/broker/definitions-cli.js --out /definitions/definitions.json');
      expect(init.command).not.toContain('--dev');
      // The generator refuses development passwords in production, so it runs in the release's mode.
      expect(init.env.find((e: { name: string }) => e.name === 'NODE_ENV')?.value).toBe('development');
      const keys = secretKeys(init);
      for (const { service } of BROKER_USE) expect(keys[brokerPasswordKey(service)]).toBe(brokerPasswordKey(service));
      const mounts = spec.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      expect(mounts).toEqual(expect.arrayContaining(['/etc/rabbitmq/definitions', '/etc/rabbitmq/conf.d/30-definitions.conf']));
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'flotilla-rabbitmq-definitions')! as K8sObject & { data: Record<string, string> };
      expect(config.data['30-definitions.conf']).toContain('load_definitions = /etc/rabbitmq/definitions/definitions.json');
    });
  });
});
