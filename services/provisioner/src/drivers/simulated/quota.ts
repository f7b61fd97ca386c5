import { formatCpu, formatMemory, parseCpu, parseMemory } from './quantity.js';
import type { PodResources } from './simulated-options.js';

/** Millicores and bytes of one pod, requests and limits. */
export interface Resources {
  requestsCpu: number;
  requestsMemory: number;
  limitsCpu: number;
  limitsMemory: number;
}

export type Usage = Resources & { pods: number };

type QuotaField = keyof Usage;

/** A namespace's ResourceQuota as far as the simulation needs it. */
export interface Quota {
  name: string;
  hard: Record<string, string>;
}

const QUOTA_KEYS: Record<string, QuotaField> = {
  pods: 'pods',
  cpu: 'requestsCpu',
  memory: 'requestsMemory',
  'requests.cpu': 'requestsCpu',
  'requests.memory': 'requestsMemory',
  'limits.cpu': 'limitsCpu',
  'limits.memory': 'limitsMemory',
};

/** One pod's resources: `configured`, with limits from the LimitRange's `defaults` (else the requests) when it sets none. */
export function podResources(configured: PodResources, defaults: { cpu: string; memory: string } | undefined): Resources {
  const requestsCpu = parseCpu(configured.requestsCpu);
  const requestsMemory = parseMemory(configured.requestsMemory);
  return {
    requestsCpu,
    requestsMemory,
    limitsCpu: configured.limitsCpu ? parseCpu(configured.limitsCpu) : defaults ? parseCpu(defaults.cpu) : requestsCpu,
    limitsMemory: configured.limitsMemory ? parseMemory(configured.limitsMemory) : defaults ? parseMemory(defaults.memory) : requestsMemory,
  };
}

/** What `pods` use together. */
export function sumUsage(pods: Iterable<Resources>): Usage {
  const used = { pods: 0, requestsCpu: 0, requestsMemory: 0, limitsCpu: 0, limitsMemory: 0 };
  for (const pod of pods) {
    used.pods += 1;
    used.requestsCpu += pod.requestsCpu;
    used.requestsMemory += pod.requestsMemory;
    used.limitsCpu += pod.limitsCpu;
    used.limitsMemory += pod.limitsMemory;
  }
  return used;
}

/** The quota's keys with what `used` takes of each, as Kubernetes reports `status.used`. */
export function usedQuantities(quota: Quota, used: Usage): Record<string, string> {
  const quantities: Record<string, string> = {};
  for (const key of Object.keys(quota.hard)) {
    const field = QUOTA_KEYS[key];
    if (field) quantities[key] = formatQuota(field, used[field]);
  }
  return quantities;
}

/** The first quota key `total` exceeds, with both quantities; undefined when it fits. */
export function firstExceeded(quota: Quota, total: Usage): { key: string; need: string; hard: string } | undefined {
  for (const [key, hard] of Object.entries(quota.hard)) {
    const field = QUOTA_KEYS[key];
    if (field && total[field] > parseQuota(field, hard)) return { key, need: formatQuota(field, total[field]), hard };
  }
  return undefined;
}

/** Kubernetes' "requested: …, used: …, limited: …" for the first resource one more `pod` would exceed. */
export function exceededQuota(quota: Quota, used: Usage, pod: Resources): string | undefined {
  const requested = { ...pod, pods: 1 };
  for (const [key, hard] of Object.entries(quota.hard)) {
    const field = QUOTA_KEYS[key];
    if (!field) continue;
    if (used[field] + requested[field] > parseQuota(field, hard)) {
      return `${quota.name}, requested: ${key}=${formatQuota(field, requested[field])}, used: ${key}=${formatQuota(field, used[field])}, limited: ${key}=${hard}`;
    }
  }
  return undefined;
}

function parseQuota(field: QuotaField, quantity: string): number {
  if (field === 'pods') return Number(quantity);
  return field === 'requestsCpu' || field === 'limitsCpu' ? parseCpu(quantity) : parseMemory(quantity);
}

function formatQuota(field: QuotaField, value: number): string {
  if (field === 'pods') return String(value);
  return field === 'requestsCpu' || field === 'limitsCpu' ? formatCpu(value) : formatMemory(value);
}
