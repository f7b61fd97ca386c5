import { IsIn, IsInt, IsString, Matches, Max, Min, MinLength, Validate, ValidatorConstraint, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';
import { BaseEnv } from '@flotilla/config';
import { loadStoreChartValues } from './drivers/kubernetes/store-chart-values.js';

export const DEV_STORE_SECRETS_KEY = 'flotilla-dev-store-secrets-key-change-me';

@ValidatorConstraint({ name: 'notDevDefault' })
class NotDevDefaultInProduction implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return (args.object as ProvisionerEnv).NODE_ENV !== 'production' || value !== DEV_STORE_SECRETS_KEY;
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be set to a non-default value when NODE_ENV=production`;
  }
}

/** STORE_CHART_VALUES and STORE_CHART_VALUES_FILE parse, keep off the driver's keys and fit the charts' schemas. */
@ValidatorConstraint({ name: 'storeChartValues' })
class StoreChartValuesFit implements ValidatorConstraintInterface {
  private problem = '';
  validate(_value: unknown, args: ValidationArguments): boolean {
    try {
      loadStoreChartValues(args.object as ProvisionerEnv);
      return true;
    } catch (error) {
      this.problem = (error as Error).message;
      return false;
    }
  }
  defaultMessage(): string {
    return this.problem;
  }
}

export class ProvisionerEnv extends BaseEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8085;

  /** `simulated`, `kubernetes`, or `auto`: kubernetes when a kubeconfig is set (or in a cluster), simulated otherwise. */
  @IsIn(['auto', 'simulated', 'kubernetes'])
  CLUSTER_DRIVER: 'auto' | 'simulated' | 'kubernetes' = 'auto';

  /** Path of the kubeconfig for the kubernetes driver; empty: in-cluster config or `$KUBECONFIG`. */
  @IsString()
  KUBECONFIG = '';

  /** Stores are served at `{name}.{BASE_DOMAIN}`. */
  @Matches(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, { message: 'BASE_DOMAIN must be a domain name such as stores.example.com' })
  BASE_DOMAIN = 'stores.localhost';

  @IsString()
  INGRESS_CLASS_NAME = 'nginx';

  /** Namespace of the ingress controller, allowed into store namespaces by their network policies. */
  @IsString()
  INGRESS_NAMESPACE = 'ingress-nginx';

  /**
   * Least privilege (deploy/README.md, RBAC): cluster-wide the provisioner may only manage
   * namespaces; in each store namespace the driver creates a RoleBinding of this
   * ServiceAccount (name and namespace) to the store-operator ClusterRole before Helm
   * runs. The chart sets all three to its own release's.
   */
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'PROVISIONER_SERVICE_ACCOUNT must be a ServiceAccount name' })
  PROVISIONER_SERVICE_ACCOUNT = 'flotilla-provisioner';

  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'PROVISIONER_NAMESPACE must be a namespace name' })
  PROVISIONER_NAMESPACE = 'flotilla';

  @Matches(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { message: 'STORE_OPERATOR_CLUSTER_ROLE must be a ClusterRole name' })
  STORE_OPERATOR_CLUSTER_ROLE = 'flotilla-flotilla-provisioner-store-operator';

  /** StorageClass of the stores' volumes; empty: the cluster's default. */
  @IsString()
  STORAGE_CLASS_NAME = '';

  /** Directory of the store charts; empty: `deploy/store-charts` of this installation. */
  @IsString()
  STORE_CHARTS_DIR = '';

  /**
   * Operator values of the store charts (docs in deploy/store-charts/README.md): a YAML or
   * JSON document `{common: {...}, wordpress: {...}, medusa: {...}}` — TLS, ingress
   * annotations, image registries, sizes. Merged under the values the driver sets for each
   * store; keys the driver owns are refused, and the result must fit each chart's
   * values.schema.json. STORE_CHART_VALUES applies over the file's.
   */
  @IsString()
  @Validate(StoreChartValuesFit)
  STORE_CHART_VALUES = '';

  @IsString()
  STORE_CHART_VALUES_FILE = '';

  /** Scheme of the store URLs the API shows; empty: https when the store chart values enable TLS (`ingress.tls.enabled`). */
  @IsIn(['', 'http', 'https'])
  STORE_URL_SCHEME: '' | 'http' | 'https' = '';

  /** The Helm binary; empty: the pinned one the project installs (`node_modules/.bin/helm`). */
  @IsString()
  HELM_PATH = '';

  /**
   * This installation's id, a DNS label: the label `flotilla.io/installation` of every
   * namespace it creates, and the only namespaces its orphan sweep may delete. Empty: the
   * NAMESPACE setting, or `flotilla`. The chart sets its release namespace, so dev and
   * prod sharing a cluster never touch each other's stores.
   */
  @Matches(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/, { message: 'INSTALLATION_ID must be a DNS label (lower-case letters, digits and hyphens, at most 63)' })
  INSTALLATION_ID = '';

  /**
   * New store namespaces are `{STORE_NAMESPACE_PREFIX}-{name}` (at most 22 characters, so
   * the 40 of a store name fit in a namespace's 63). Empty: `store-{INSTALLATION_ID}`,
   * shortened with a hash when longer. Stores keep the namespace they were created with.
   */
  @Matches(/^([a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?)?$/, { message: 'STORE_NAMESPACE_PREFIX must be lower-case letters, digits and hyphens, at most 22' })
  STORE_NAMESPACE_PREFIX = '';

  /**
   * A namespace of this installation whose store has no row is removed by the reconcile
   * loop only once it is this old (and older than one reconcile pass in any case): a
   * store whose row was lost, or a database restored from a backup, gets time to be noticed.
   */
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3_600_000)
  ORPHAN_NAMESPACE_GRACE_MS = 3_600_000;

  /** Stores on the whole platform. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  MAX_STORES = 200;

  /** Stores per team. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  TEAM_STORE_QUOTA = 20;

  /** Store operations (provision, update, delete) running at once per instance. */
  @IsInt()
  @Min(1)
  @Max(256)
  PROVISION_CONCURRENCY = 16;

  /** `helm --timeout`, and the time a revision has to become ready before it is rolled back. */
  @IsInt()
  @Min(1)
  @Max(3600)
  ROLLOUT_DEADLINE_SECONDS = 300;

  /** Canary: pause between steps. */
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  CANARY_PAUSE_MS = 5000;

  /**
   * Blue/green: how long the old revision stays scaled after traffic switched, when the
   * rollout names no `scaleDownDelaySeconds` (an abort in that window is instant). 0 here
   * keeps development and tests quick; the chart's values set 30.
   */
  @IsInt()
  @Min(0)
  @Max(3600)
  BLUE_GREEN_SCALE_DOWN_DELAY_SECONDS = 0;

  /** How often every store's desired state is compared with the cluster. */
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  RECONCILE_INTERVAL_MS = 15_000;

  /** Key that encrypts the stores' generated passwords at rest (32+ characters). */
  @IsString()
  @MinLength(32)
  @Validate(NotDevDefaultInProduction)
  STORE_SECRETS_KEY = DEV_STORE_SECRETS_KEY;

  /** Versions installed when a request names none. */
  @IsString()
  WORDPRESS_DEFAULT_VERSION = '6.6';

  @IsString()
  MEDUSA_DEFAULT_VERSION = '1.20';

  /** ResourceQuota of each store namespace (the seed's numbers). */
  @IsInt()
  @Min(1)
  STORE_QUOTA_PODS = 20;

  @IsString()
  STORE_QUOTA_REQUESTS_CPU = '2';

  @IsString()
  STORE_QUOTA_REQUESTS_MEMORY = '4Gi';

  @IsString()
  STORE_QUOTA_LIMITS_CPU = '4';

  @IsString()
  STORE_QUOTA_LIMITS_MEMORY = '8Gi';

  @IsString()
  STORE_QUOTA_STORAGE = '20Gi';

  /** Simulated cluster: pods of these versions (comma-separated) never pass readiness — for trying rollbacks. */
  @IsString()
  SIMULATED_FAILING_VERSIONS = '';

  /** Simulated cluster: pods of these versions (comma-separated) are ready but serve badly (errorRate 0.2, p95Ms 1500) — for trying canary analysis. */
  @IsString()
  SIMULATED_BAD_VERSIONS = '';

  /** Simulated cluster: measuring these versions (comma-separated) for canary analysis fails, as when the metrics source is away. */
  @IsString()
  SIMULATED_METRICS_ERROR_VERSIONS = '';

  /** Simulated cluster: these versions' pods (comma-separated) report no requests to canary analysis. */
  @IsString()
  SIMULATED_NO_METRICS_VERSIONS = '';

  /** Kubernetes: canary analysis's Prometheus (`http://prometheus.monitoring:9090`); empty: analysis has no source, so its measurements never pass. */
  @IsString()
  ANALYSIS_PROMETHEUS_URL = '';

  /** Kubernetes: PromQL for a revision's error rate (0 to 1), with `{{namespace}}`, `{{revision}}`, `{{window}}`; empty: over ingress-nginx's requests. */
  @IsString()
  ANALYSIS_ERROR_RATE_QUERY = '';

  /** Kubernetes: PromQL for a revision's 95th percentile latency in milliseconds, the same placeholders; empty: ingress-nginx's request durations. */
  @IsString()
  ANALYSIS_P95_QUERY = '';

  /** Simulated cluster: how long a pod takes to start and to become ready. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  SIMULATED_POD_START_MS = 800;

  @IsInt()
  @Min(0)
  @Max(600_000)
  SIMULATED_POD_READY_MS = 700;

  /**
   * Simulated cluster: which one. Its state lives in Redis under `{id}:simulated-cluster`,
   * so every replica, a restarted provisioner and any installation given the same id see
   * one cluster. Empty: the NAMESPACE setting (a test run's key prefix), or `flotilla`.
   */
  @Matches(/^([A-Za-z0-9]([A-Za-z0-9_.-]{0,62}))?$/, { message: 'SIMULATED_CLUSTER_ID must be letters, digits, `_`, `.` and `-`, at most 63' })
  SIMULATED_CLUSTER_ID = '';

  /** Simulated cluster: autoscaling every new store gets, `{min}-{max}@{target CPU percent}` (like `1-5@50`); empty: none. */
  @Matches(/^([1-9][0-9]{0,2}-[1-9][0-9]{0,2}@[1-9][0-9]{0,3})?$/, { message: 'SIMULATED_AUTOSCALE must be like 1-5@50 (min-max@target CPU percent)' })
  SIMULATED_AUTOSCALE = '';

  /** Simulated cluster: autoscaling scales down only to the highest replica count recommended within this window. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  SIMULATED_AUTOSCALE_STABILIZATION_MS = 15_000;
}
