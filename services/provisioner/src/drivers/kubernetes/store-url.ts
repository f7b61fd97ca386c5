import type { StoreTemplate } from '@flotilla/contracts';
import { loadStoreChartValues, type StoreChartValuesSettings } from './store-chart-values.js';

export type StoreUrlScheme = 'http' | 'https';

/** What decides a store's public URL (the provisioner's environment). */
export interface StoreUrlSettings extends StoreChartValuesSettings {
  /** Stores are served at `{name}.{BASE_DOMAIN}`. */
  BASE_DOMAIN: string;
  /** `http` or `https` for every store; empty: https when the store's chart values enable TLS. */
  STORE_URL_SCHEME?: string;
}

/** The parsed chart values per setting, so listing stores does not read and parse them each time. */
const tlsByTemplate = new Map<string, Partial<Record<StoreTemplate, boolean>>>();

function tlsEnabled(settings: StoreUrlSettings, template: StoreTemplate): boolean {
  const key = [settings.STORE_CHARTS_DIR ?? '', settings.STORE_CHART_VALUES_FILE ?? '', settings.STORE_CHART_VALUES ?? ''].join('\0');
  let tls = tlsByTemplate.get(key);
  if (!tls) {
    const values = settings.STORE_CHART_VALUES || settings.STORE_CHART_VALUES_FILE ? loadStoreChartValues(settings) : {};
    tls = {};
    for (const [name, chart] of Object.entries(values)) {
      const ingress = chart?.ingress as { tls?: { enabled?: unknown } } | undefined;
      tls[name as StoreTemplate] = ingress?.tls?.enabled === true;
    }
    tlsByTemplate.set(key, tls);
  }
  return tls[template] ?? false;
}

/**
 * The one place that decides how stores are reached: `STORE_URL_SCHEME` when set (TLS ended
 * before the ingress controller, say), otherwise https exactly when the store chart's
 * values enable TLS on its Ingress (`ingress.tls.enabled`, from STORE_CHART_VALUES).
 */
export function storeUrlScheme(settings: StoreUrlSettings, template: StoreTemplate): StoreUrlScheme {
  if (settings.STORE_URL_SCHEME === 'http' || settings.STORE_URL_SCHEME === 'https') return settings.STORE_URL_SCHEME;
  return tlsEnabled(settings, template) ? 'https' : 'http';
}

/** `{scheme}://{name}.{BASE_DOMAIN}`: the URL the API shows and the ingress serves. */
export function storeUrl(store: { name: string; template: StoreTemplate }, settings: StoreUrlSettings): string {
  return `${storeUrlScheme(settings, store.template)}://${store.name}.${settings.BASE_DOMAIN}`;
}
