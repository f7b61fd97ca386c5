import { join } from 'node:path';
import type { StoreTemplate } from '@flotilla/contracts';
import { PermanentDriverError, type ReleaseSpec, type StoreRef } from '../cluster-driver.js';
import { isHelmWaitTimeout, isReleaseLocked, isReleaseNotFound, type HelmRunner } from './helm.js';
import type { KubernetesApis } from './kube-apis.js';
import { labelReleaseObjects } from './release-labels.js';
import { appSelector } from './store-objects.js';
import { storeValues, type StoreValuesOptions } from './store-release.js';

/** Time Helm gets beyond its own `--timeout` before it is killed. */
const HELM_KILL_MARGIN_SECONDS = 30;
/** Timeout of Helm's quick reads (`history`). */
const HELM_QUERY_TIMEOUT_MS = 60_000;

export interface StoreReleasesOptions {
  helm: HelmRunner;
  chartsDir: string;
  helmTimeoutSeconds: number;
  kubeconfigPath?: string;
  values: StoreValuesOptions;
  apis: () => Promise<KubernetesApis>;
  now: () => number;
}

/** The kubernetes driver's Helm side: one release per store, named after it, in its namespace. */
export class StoreReleases {
  constructor(private readonly options: StoreReleasesOptions) {}

  /**
   * `helm upgrade --install {name} {chartsDir}/{template} --namespace {namespace} --wait`,
   * the values (secrets included) on Helm's standard input, never in its arguments or on
   * disk. A release left locked by a Helm process that died is unlocked and the upgrade
   * tried once more. A `--wait` that ran out is not an error (readiness is judged through
   * `observe`), unless the reason is final (quota). Then Helm's release Secrets and the
   * volume claims get the installation's label, which the chart cannot give them.
   */
  async apply(store: StoreRef, namespace: string, chart: StoreTemplate, release: ReleaseSpec): Promise<void> {
    const values = storeValues(chart, release, this.options.values);
    const secrets = Object.values(values.secrets as Record<string, string>);
    const timeout = this.options.helmTimeoutSeconds;
    const args = [
      'upgrade',
      '--install',
      store.name,
      join(this.options.chartsDir, chart),
      '--namespace',
      namespace,
      '--wait',
      '--timeout',
      `${timeout}s`,
      '--atomic=false',
      '--values',
      '-',
      ...this.kubeconfigArgs(),
    ];
    const run = (): Promise<unknown> =>
      this.options.helm.run(args, { stdin: JSON.stringify(values), timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000, redact: secrets });

    try {
      await run();
    } catch (error) {
      if (!isReleaseLocked(error) || !(await this.unlockStaleRelease(store.name, namespace))) {
        await this.settle(store, namespace, error);
      } else {
        try {
          await run();
        } catch (retryError) {
          await this.settle(store, namespace, retryError);
        }
      }
    }
    const installation = this.options.values.installation;
    if (installation !== undefined) await labelReleaseObjects((await this.options.apis()).core, namespace, store.name, installation);
  }

  /** `helm uninstall {name} --wait`; a release that is not there is fine. */
  async uninstall(store: StoreRef, namespace: string): Promise<void> {
    const timeout = this.options.helmTimeoutSeconds;
    try {
      await this.options.helm.run(['uninstall', store.name, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`, ...this.kubeconfigArgs()], {
        timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000,
      });
    } catch (error) {
      if (!isReleaseNotFound(error)) throw error;
    }
  }

  private kubeconfigArgs(): string[] {
    return this.options.kubeconfigPath ? ['--kubeconfig', this.options.kubeconfigPath] : [];
  }

  private async settle(store: StoreRef, namespace: string, error: unknown): Promise<void> {
    const explained = await this.explain(store, namespace, error);
    if (isHelmWaitTimeout(error) && !(explained instanceof PermanentDriverError)) return;
    throw explained;
  }

  /**
   * A release locked in `pending-install`, `pending-upgrade` or `pending-rollback` for
   * longer than Helm's timeout (so no live Helm holds it) is unlocked: rolled back to
   * its last release, or uninstalled if it never installed. True when it was.
   */
  private async unlockStaleRelease(release: string, namespace: string): Promise<boolean> {
    const { stdout } = await this.options.helm.run(['history', release, '--namespace', namespace, '--max', '1', '--output', 'json', ...this.kubeconfigArgs()], {
      timeoutMs: HELM_QUERY_TIMEOUT_MS,
    });
    let last: { status?: string; updated?: string } | undefined;
    try {
      [last] = JSON.parse(stdout) as Array<{ status?: string; updated?: string }>;
    } catch {
      return false;
    }
    if (!last?.status?.startsWith('pending-')) return false;
    const age = this.options.now() - Date.parse(last.updated ?? '');
    if (!(age > (this.options.helmTimeoutSeconds + HELM_KILL_MARGIN_SECONDS) * 1000)) return false;
    const timeout = this.options.helmTimeoutSeconds;
    const command =
      last.status === 'pending-install'
        ? ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`]
        : ['rollback', release, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`];
    await this.options.helm.run([...command, ...this.kubeconfigArgs()], { timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000 });
    return true;
  }

  /**
   * When Helm gave up waiting, the reason is often a Deployment that cannot create its
   * pods (the quota is full): that is final, so say so with the API's message.
   */
  private async explain(store: StoreRef, namespace: string, error: unknown): Promise<unknown> {
    if (!isHelmWaitTimeout(error)) return error;
    try {
      const { apps } = await this.options.apis();
      const deployments = await apps.listNamespacedDeployment({ namespace, labelSelector: appSelector(store.name) });
      for (const deployment of deployments.items) {
        const failure = deployment.status?.conditions?.find((condition) => condition.type === 'ReplicaFailure' && condition.status === 'True');
        if (failure?.message && /exceeded quota|forbidden/i.test(failure.message) && !/being terminated/i.test(failure.message)) {
          return new PermanentDriverError(`store ${store.name}: ${deployment.metadata?.name} cannot create its pods: ${failure.message}`);
        }
      }
    } catch {
      // The timeout stands as the reason.
    }
    return error;
  }
}
