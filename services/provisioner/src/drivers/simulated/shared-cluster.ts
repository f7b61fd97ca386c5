import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterAccess } from './cluster-access.js';
import { emptyClusterState, type ClusterState } from './cluster-state.js';
import { SimulatedCluster } from './simulated-cluster.js';
import type { ResolvedSimulatedOptions } from './simulated-options.js';

/** Writes the state only if nobody wrote since it was read (its version is unchanged). */
const COMPARE_AND_SET = `
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
return 1`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const MAX_ATTEMPTS = 100;

interface QueuedChange {
  change: (cluster: SimulatedCluster) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface SharedClusterSettings {
  /** The Redis hash holding the state (`v`: version, `s`: JSON); the lease is `{key}:clock`. */
  key: string;
  /** How long the clock lease lasts without renewal: a dead holder's replacement takes over after this. */
  leaseMs?: number;
  /** How often the holder brings the simulation to now (and renews its lease). */
  tickMs?: number;
  /** Told when the clock loop starts failing (Redis away); the loop keeps trying. */
  onError?: (error: unknown) => void;
}

/**
 * One simulated cluster shared by every process pointed at the same key: provisioner
 * replicas, installations, a restarted provisioner, a test watching from outside.
 *
 * - The whole {@link ClusterState} (namespaces, deployments, pods with their timestamps,
 *   events, holds, load, and the timers as due times) is one JSON value in Redis with
 *   a version.
 * - A change reads the state, brings the simulation to now (runs what fell due),
 *   applies the change to that copy and writes it back only if the version did not
 *   move meanwhile (a Lua compare-and-set); otherwise it starts again on the newer
 *   state. So concurrent changes from any number of processes apply one after another.
 * - Time moves even when nobody changes anything: one process at a time holds the
 *   clock lease (SET NX PX, renewed every tick) and brings the state to now each tick.
 *   When it dies, the lease lapses and another process takes it over and continues
 *   from the stored state: due timers run at their own moments, pods that were
 *   Running stay Running.
 * - Reads answer from the stored state as last written (at most a tick old while a
 *   lease holder lives), like a read from an API server.
 */
export class SharedSimulatedCluster implements ClusterAccess {
  private readonly leaseKey: string;
  private readonly leaseMs: number;
  private readonly tickMs: number;
  private readonly token = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private holdsLease = false;
  private failing = false;
  private closed = false;
  private readonly waits = new Set<(error: Error) => void>();
  private readonly queued: QueuedChange[] = [];
  private writing: Promise<void> | null = null;
  /** The state as this process last read or wrote it, with its version. */
  private lastRead: { version: number; state: ClusterState } | null = null;

  constructor(
    private readonly redis: Redis,
    readonly options: ResolvedSimulatedOptions,
    private readonly settings: SharedClusterSettings,
  ) {
    this.leaseKey = `${settings.key}:clock`;
    this.tickMs = settings.tickMs ?? Math.max(50, Math.min(500, options.probeIntervalMs * options.timeScale));
    this.leaseMs = settings.leaseMs ?? Math.max(1000, this.tickMs * 6);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether this process moves the cluster's clock now. */
  get isClockHolder(): boolean {
    return this.holdsLease;
  }

  /** Adds this configuration's failing versions to the cluster and starts competing for the clock. */
  async open(): Promise<void> {
    const versions = this.options.failingVersions;
    if (versions.length > 0) await this.write((cluster) => versions.forEach((version) => cluster.setVersionFailing(version, true)));
    this.schedule(0);
  }

  /** `inspect` over the state as last written; nothing is written. `inspect` must not change what it is shown. */
  async read<T>(inspect: (cluster: SimulatedCluster) => T): Promise<T> {
    this.assertOpen();
    const version = Number((await this.redis.hget(this.settings.key, 'v')) ?? 0);
    // Most reads find the version they read last: the parsed state is reused rather than fetched and parsed again.
    if (this.lastRead?.version !== version) this.lastRead = await this.load();
    return inspect(SimulatedCluster.view(this.lastRead.state, this.options, this.options.scheduler.now()));
  }

  /**
   * Brings the cluster to now, applies `change` and writes the result, retried on a
   * newer state until it applies. What `change` throws is thrown, and nothing of it is
   * written. Changes asked for while a write is under way go together in the next one
   * (one read, one compare-and-set for all), so a busy process does not race itself.
   */
  write<T>(change: (cluster: SimulatedCluster) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the simulated cluster is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ change, resolve: resolve as (value: unknown) => void, reject });
      this.startWriting();
    });
  }

  private startWriting(): void {
    if (this.writing || this.queued.length === 0) return;
    this.writing = this.writeBatch(this.queued.splice(0)).finally(() => {
      this.writing = null;
      this.startWriting();
    });
  }

  private async writeBatch(batch: QueuedChange[]): Promise<void> {
    for (let attempt = 1; batch.length > 0; attempt++) {
      try {
        if (this.closed) throw new Error('the simulated cluster is closed');
        const { version, state } = await this.load();
        const now = this.options.scheduler.now();
        const cluster = SimulatedCluster.view(state, this.options, now);
        cluster.advanceTo(now);
        const results: unknown[] = [];
        const failed = this.applyAll(batch, cluster, results);
        if (failed) {
          // It may have changed the copy before it threw: the others run again on a fresh one, without it.
          batch = batch.filter((queued) => queued !== failed.queued);
          failed.queued.reject(failed.error);
          continue;
        }
        const written = await this.redis.eval(COMPARE_AND_SET, 1, this.settings.key, String(version), String(version + 1), JSON.stringify(cluster.state));
        if (written === 1) {
          this.lastRead = { version: version + 1, state: cluster.state };
          batch.forEach((queued, i) => queued.resolve(results[i]));
          return;
        }
        if (attempt >= MAX_ATTEMPTS) throw new Error(`the simulated cluster ${this.settings.key} changed ${MAX_ATTEMPTS} times while a change was applied; try again`);
        await sleep(Math.random() * Math.min(50, 2 * attempt));
      } catch (error) {
        for (const queued of batch) queued.reject(error);
        return;
      }
    }
  }

  /** Runs the changes in order on `cluster`; the first that throws, if any. */
  private applyAll(batch: QueuedChange[], cluster: SimulatedCluster, results: unknown[]): { queued: QueuedChange; error: unknown } | undefined {
    for (const queued of batch) {
      try {
        results.push(queued.change(cluster));
      } catch (error) {
        return { queued, error };
      }
    }
    return undefined;
  }

  /** Deletes the namespace; resolves once it is gone (at once when it does not exist). */
  async deleteNamespace(name: string): Promise<void> {
    const uid = await this.write((cluster) => {
      const uid = cluster.namespace(name)?.uid;
      cluster.beginNamespaceDeletion(name);
      return uid;
    });
    if (uid) await this.waitUntilGone(name, uid);
  }

  /** Resolves once the namespace `uid` is gone (or made again under a new uid); rejects when this is closed. */
  async waitUntilGone(name: string, uid: string): Promise<void> {
    const pollMs = Math.max(20, Math.min(this.tickMs, this.options.namespaceTerminationMs * this.options.timeScale));
    for (;;) {
      const current = await this.read((cluster) => cluster.namespace(name));
      if (!current || current.uid !== uid) return;
      await new Promise<void>((resolve, reject) => {
        const stop = (error: Error): void => {
          clearTimeout(timer);
          reject(error);
        };
        const timer = setTimeout(() => {
          this.waits.delete(stop);
          resolve();
        }, pollMs);
        this.waits.add(stop);
      });
    }
  }

  /** Stops the clock loop and hands the lease over at once; the cluster itself lives on in Redis. Waits reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const stop of this.waits) stop(new Error('the simulated cluster was closed before the namespace was gone'));
    this.waits.clear();
    if (this.holdsLease) await this.redis.eval(RELEASE, 1, this.leaseKey, this.token).catch(() => undefined);
    this.holdsLease = false;
  }

  // -------------------------------------------------------------------------

  private async load(): Promise<{ version: number; state: ClusterState }> {
    const [version, json] = await this.redis.hmget(this.settings.key, 'v', 's');
    return { version: Number(version ?? 0), state: json ? (JSON.parse(json) as ClusterState) : emptyClusterState() };
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule(this.tickMs)), ms);
  }

  /** Takes or renews the lease; the holder brings the simulation to now. */
  private async tick(): Promise<void> {
    try {
      if (this.holdsLease) this.holdsLease = (await this.redis.eval(RENEW, 1, this.leaseKey, this.token, this.leaseMs)) === 1;
      else this.holdsLease = (await this.redis.set(this.leaseKey, this.token, 'PX', this.leaseMs, 'NX')) === 'OK';
      if (this.holdsLease && !this.closed) await this.write(() => undefined);
      this.failing = false;
    } catch (error) {
      // Told once per outage, not on every tick of it.
      if (!this.closed && !this.failing) this.settings.onError?.(error);
      this.failing = true;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the simulated cluster is closed');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
