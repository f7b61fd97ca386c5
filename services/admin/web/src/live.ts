/**
 * The live feed: `GET /admin/events` as server-sent events (`stats` about every 2 s,
 * `service` on an up/down change), reconnected with backoff. EventSource cannot send an
 * Authorization header, so the token goes in the query string (the gateway accepts it
 * there for this route only). Before each reconnect the stats are fetched once through
 * {@link api}, which refreshes an expired token, so the stream reopens with a valid one.
 */
import { useSyncExternalStore } from 'react';
import { apiUrl, call, client, getSession } from './api';
import type { AdminStats, ServiceInstance } from './types';

export type LiveState = 'idle' | 'connecting' | 'open' | 'reconnecting';

/** One point of the dashboard's charts. */
export interface Sample {
  at: number;
  perSecond: number;
  errorRate: number;
}

export interface LiveSnapshot {
  state: LiveState;
  stats: AdminStats | null;
  samples: Sample[];
  /** When the last figures arrived (ms since the epoch). */
  updatedAt: number | null;
}

/** How much history the charts keep. */
export const HISTORY_MS = 10 * 60_000;
const MAX_BACKOFF_MS = 15_000;

class LiveFeed {
  private snapshot: LiveSnapshot = { state: 'idle', stats: null, samples: [], updatedAt: null };
  private readonly listeners = new Set<() => void>();
  private readonly serviceListeners = new Set<(instance: ServiceInstance) => void>();
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private running = false;
  /** Bumped by start and stop, so a reconnect scheduled before a stop never opens a stream after it. */
  private generation = 0;

  /** Opens the stream (once); figures start with one `GET /admin/stats`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.update({ state: 'connecting' });
    this.reopen(0);
  }

  /** Closes the stream and forgets the figures (on logout). */
  stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.source?.close();
    this.source = null;
    this.snapshot = { state: 'idle', stats: null, samples: [], updatedAt: null };
    this.emit();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): LiveSnapshot => this.snapshot;

  /** Calls `listener` with each `service` event (an instance going up or down). */
  onService(listener: (instance: ServiceInstance) => void): () => void {
    this.serviceListeners.add(listener);
    return () => this.serviceListeners.delete(listener);
  }

  private open(): void {
    const token = getSession()?.accessToken;
    if (!this.running || !token) return;
    const source = new EventSource(apiUrl('/admin/events', { access_token: token }));
    this.source = source;
    source.addEventListener('open', () => {
      this.attempt = 0;
      this.update({ state: 'open' });
    });
    source.addEventListener('stats', (event) => this.receiveStats(parseJson<AdminStats>((event as MessageEvent<string>).data)));
    source.addEventListener('service', (event) => {
      const instance = parseJson<ServiceInstance>((event as MessageEvent<string>).data);
      if (instance) for (const listener of this.serviceListeners) listener(instance);
    });
    source.addEventListener('error', () => {
      // Reconnect ourselves rather than let the browser retry with a token that may have expired.
      source.close();
      if (this.source !== source || !this.running) return;
      this.source = null;
      this.update({ state: 'reconnecting' });
      this.reopen(Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt++));
    });
  }

  /** After `delayMs`: the stats once (refreshing the token if needed), then the stream. */
  private reopen(delayMs: number): void {
    const generation = this.generation;
    this.timer = setTimeout(() => {
      void this.fetchStats().then(() => {
        if (generation === this.generation) this.open();
      });
    }, delayMs);
  }

  private async fetchStats(): Promise<void> {
    try {
      this.receiveStats(await call<AdminStats>(client.GET('/api/v1/admin/stats')));
    } catch {
      // Shown as "reconnecting"; a refused session ends through api.ts and stops the feed.
    }
  }

  private receiveStats(stats: AdminStats | null): void {
    if (!stats || !this.running) return;
    const at = Date.now();
    const sample: Sample = { at, perSecond: stats.requests.perSecond, errorRate: stats.requests.errorRate };
    const samples = [...this.snapshot.samples.filter((s) => s.at > at - HISTORY_MS), sample];
    this.update({ stats, samples, updatedAt: at });
  }

  private update(patch: Partial<LiveSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function parseJson<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}

export const live = new LiveFeed();

/** The live figures and the stream's state, re-rendering on each change. */
export function useLive(): LiveSnapshot {
  return useSyncExternalStore(live.subscribe, live.getSnapshot);
}
