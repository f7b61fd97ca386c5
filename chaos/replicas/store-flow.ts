import { waitFor } from '@flotilla/testing';
import type { Gateways } from './gateways.js';

export interface Store {
  id: string;
  name: string;
  status: string;
  error?: string;
  observed: { readyReplicas: number; revision: number | null };
}

/**
 * Stores asked for as a client asks: POST, then the store polled until it settles. A
 * create that got no answer is sent again; a 409 then means the first one was taken, and
 * the store is found by its name. The record: the store ids the client was given.
 */
export class StoreFlow {
  readonly created = new Map<string, string>();
  readonly settled = new Map<string, Store>();

  constructor(
    private readonly gateways: Gateways,
    private readonly token: string,
  ) {}

  async create(n: number, name: string, replicas: number): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const { res } = await this.gateways.request<Store>(n, 'POST', '/api/v1/stores', { token: this.token, body: { name, template: n % 2 ? 'medusa' : 'wordpress', replicas } });
      if (res?.status === 202) return this.record(name, res.body.id);
      if (res?.status === 409 && attempt > 0) {
        const list = await this.gateways.retry<{ items: Store[] }>(n, 'GET', '/api/v1/stores', { token: this.token }, (r) => r.status === 200);
        const found = list?.body.items.find((s) => s.name === name);
        if (found) return this.record(name, found.id);
      }
      if (res && res.status < 500) throw new Error(`create ${name} answered ${res.status}: ${JSON.stringify(res.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`create ${name} never answered`);
  }

  /** Polls the store until it is ready or failed. */
  async settle(n: number, id: string, timeoutMs: number): Promise<Store> {
    const store = await waitFor(
      async () => {
        const { res } = await this.gateways.request<Store>(n, 'GET', `/api/v1/stores/${id}`, { token: this.token });
        return res?.status === 200 && ['ready', 'failed'].includes(res.body.status) ? res.body : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `store ${id} to be ready or failed` },
    );
    this.settled.set(id, store);
    return store;
  }

  private record(name: string, id: string): string {
    this.created.set(id, name);
    return id;
  }
}
