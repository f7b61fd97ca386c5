import { join } from 'node:path';
import { resolveOwnership, type OwnershipSettings } from '../ownership.js';
import { findUp, helmPath, moduleDir } from './helm.js';
import { KubernetesDriver, type KubernetesDriverDeps } from './kubernetes-driver.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { loadStoreChartValues } from './store-chart-values.js';

/** The settings the provisioner's environment gives the kubernetes driver. */
export interface KubernetesDriverEnv extends OwnershipSettings {
  /** Kubeconfig path; empty: `$KUBECONFIG`, `~/.kube/config` or the in-cluster service account. */
  KUBECONFIG: string;
  INGRESS_CLASS_NAME: string;
  /** `helm --timeout` in seconds. */
  ROLLOUT_DEADLINE_SECONDS: number;
  /** StorageClass of the stores' volumes; empty: the cluster's default. */
  STORAGE_CLASS_NAME?: string;
  /** Namespace of the ingress controller (default `ingress-nginx`). */
  INGRESS_NAMESPACE?: string;
  /** Directory of the store charts (default: `deploy/store-charts` of the repository). */
  STORE_CHARTS_DIR?: string;
  /** Operator values of the store charts, `{common, wordpress, medusa}` (YAML or JSON), over the file's. */
  STORE_CHART_VALUES?: string;
  STORE_CHART_VALUES_FILE?: string;
  /** The Helm binary (default: the repository's `node_modules/.bin/helm`). */
  HELM_PATH?: string;
  /** Bound to STORE_OPERATOR_CLUSTER_ROLE in each store namespace; no binding unless all three are set. */
  PROVISIONER_SERVICE_ACCOUNT?: string;
  PROVISIONER_NAMESPACE?: string;
  STORE_OPERATOR_CLUSTER_ROLE?: string;
  /** Canary analysis: Prometheus's URL (none: analysis has no data) and its queries (empty: over ingress-nginx's metrics). */
  ANALYSIS_PROMETHEUS_URL?: string;
  ANALYSIS_ERROR_RATE_QUERY?: string;
  ANALYSIS_P95_QUERY?: string;
}

/** The driver for `env`: the pinned Helm binary, the repository's store charts, the configured cluster and installation. */
export function createKubernetesDriver(env: KubernetesDriverEnv, deps: KubernetesDriverDeps = {}): KubernetesDriver {
  const chartsDir = env.STORE_CHARTS_DIR || findUp(join('deploy', 'store-charts'), moduleDir());
  if (!chartsDir) throw new Error('the store charts were not found (deploy/store-charts); set STORE_CHARTS_DIR');
  const { installationId, namespacePrefix } = resolveOwnership(env);
  const driver = new KubernetesDriver(
    {
      kubeconfigPath: env.KUBECONFIG || undefined,
      chartsDir,
      helmPath: helmPath({ ...process.env, ...(env.HELM_PATH ? { HELM_PATH: env.HELM_PATH } : {}) }),
      helmTimeoutSeconds: env.ROLLOUT_DEADLINE_SECONDS,
      ingressClassName: env.INGRESS_CLASS_NAME,
      storageClassName: env.STORAGE_CLASS_NAME || undefined,
      ingressNamespace: env.INGRESS_NAMESPACE || undefined,
      chartValues: loadStoreChartValues({ ...env, STORE_CHARTS_DIR: chartsDir }),
      storeAccess:
        env.PROVISIONER_SERVICE_ACCOUNT && env.PROVISIONER_NAMESPACE && env.STORE_OPERATOR_CLUSTER_ROLE
          ? { serviceAccountName: env.PROVISIONER_SERVICE_ACCOUNT, serviceAccountNamespace: env.PROVISIONER_NAMESPACE, clusterRoleName: env.STORE_OPERATOR_CLUSTER_ROLE }
          : undefined,
      installationId,
      namespacePrefix,
    },
    deps,
  );
  if (env.ANALYSIS_PROMETHEUS_URL) {
    driver.metrics = new PrometheusMetrics({ url: env.ANALYSIS_PROMETHEUS_URL, errorRateQuery: env.ANALYSIS_ERROR_RATE_QUERY, p95Query: env.ANALYSIS_P95_QUERY });
  }
  return driver;
}
