import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { BaseEnv, ENV } from '@flotilla/config';
import { EventTypes, HEARTBEAT_INTERVAL_MS, type ServiceHeartbeatData } from '@flotilla/contracts';
import { HealthRegistry } from '@flotilla/observability';
import { randomUUID } from 'node:crypto';
import { EventPublisher } from '../rabbit/event-publisher.js';
import { RABBIT_OPTIONS, type ResolvedRabbitOptions } from '../rabbit/rabbit-options.js';
import { errorMessage } from '../rabbit/wire.js';

/** How often, and whether, {@link Heartbeat} publishes. */
export interface HeartbeatOptions {
  /** Milliseconds between beats. Default {@link HEARTBEAT_INTERVAL_MS}. */
  intervalMs?: number;
  /** `false` publishes nothing (tools that load a service module without being one). Default true. */
  enabled?: boolean;
  /**
   * The broker drops a beat that waited this long in a queue (AMQP `expiration`), so an
   * admin coming back after an outage is not fed a backlog of stale beats. Default three
   * intervals, the admin's default threshold for `down`.
   */
  expiresAfterMs?: number;
}

/** Injection token of the {@link HeartbeatOptions}. */
export const HEARTBEAT_OPTIONS = Symbol('HEARTBEAT_OPTIONS');

/** How long one readiness check may take before it counts as failed (as `/health/ready`). */
const CHECK_TIMEOUT_MS = 2000;
/** How long the last beat of a stopping service may hold up its shutdown. */
const FINAL_BEAT_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Publishes `service.heartbeat` every interval: which service and process this is
 * (`instanceId`, random per process), its version (`SERVICE_VERSION`), since when it
 * runs, and whether its readiness checks pass right now (the same checks as
 * `/health/ready`). Fire-and-forget: no outbox, no retries — a beat the broker does not
 * take is skipped, the next one follows. Beats are transient and expire (see
 * {@link HeartbeatOptions.expiresAfterMs}): a beat is news only while it is fresh. It
 * starts after bootstrap, stops when the application closes, and then sends a last beat
 * with `state: 'stopped'` and `ready: false` (best effort), so a graceful stop is told
 * apart from a crash. Nothing here throws, and its timer never keeps the process alive.
 */
@Injectable()
export class Heartbeat implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Heartbeat.name);
  readonly instanceId = randomUUID();
  readonly startedAt = new Date().toISOString();
  readonly intervalMs: number;
  readonly expiresAfterMs: number;
  private readonly enabled: boolean;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly health: HealthRegistry,
    @Inject(ENV) private readonly env: BaseEnv,
    @Inject(RABBIT_OPTIONS) private readonly options: ResolvedRabbitOptions,
    @Optional() @Inject(HEARTBEAT_OPTIONS) heartbeat?: HeartbeatOptions,
  ) {
    const intervalMs = heartbeat?.intervalMs ?? HEARTBEAT_INTERVAL_MS;
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new Error(`Heartbeat: intervalMs must be a positive integer (got ${intervalMs})`);
    this.intervalMs = intervalMs;
    const expiresAfterMs = heartbeat?.expiresAfterMs ?? 3 * intervalMs;
    if (!Number.isInteger(expiresAfterMs) || expiresAfterMs < 1) throw new Error(`Heartbeat: expiresAfterMs must be a positive integer (got ${expiresAfterMs})`);
    this.expiresAfterMs = expiresAfterMs;
    this.enabled = heartbeat?.enabled ?? true;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled || this.stopped) return;
    // The first beat right away (on the next turn, so bootstrap does not wait for it).
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
  }

  /** Stops beating, waits for a beat in flight, then says `stopped` once. */
  async onModuleDestroy(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.enabled) return;
    await this.beating;
    await this.send(false, FINAL_BEAT_TIMEOUT_MS, 'stopped');
  }

  /** What the next beat will carry. */
  async snapshot(): Promise<ServiceHeartbeatData> {
    return this.data(await this.ready(), 'running');
  }

  private tick(): void {
    if (this.stopped) return;
    const started = Date.now();
    this.beating = this.ready()
      .then((ready) => (this.stopped ? undefined : this.send(ready, this.intervalMs)))
      .finally(() => {
        this.beating = undefined;
        if (this.stopped) return;
        // A fixed rate: the time the beat took counts against the interval.
        this.timer = setTimeout(() => this.tick(), Math.max(0, this.intervalMs - (Date.now() - started)));
        this.timer.unref();
      });
  }

  /** True when every registered readiness check answers within its timeout. */
  private async ready(): Promise<boolean> {
    try {
      const results = await Promise.allSettled(
        this.health.entries().map(([name, check]) => withTimeout(Promise.resolve().then(check), CHECK_TIMEOUT_MS, name)),
      );
      return results.every((r) => r.status === 'fulfilled');
    } catch {
      return false;
    }
  }

  private data(ready: boolean, state: 'running' | 'stopped'): ServiceHeartbeatData {
    return {
      service: this.options.service,
      instanceId: this.instanceId,
      version: this.env.SERVICE_VERSION,
      startedAt: this.startedAt,
      ready,
      state,
    };
  }

  /** Publishes one beat; logs once per outage, never throws. */
  private async send(ready: boolean, timeoutMs: number, state: 'running' | 'stopped' = 'running'): Promise<void> {
    try {
      const beat = this.publisher.publish(EventTypes.ServiceHeartbeat, this.data(ready, state), { expirationMs: this.expiresAfterMs, persistent: false });
      await withTimeout(beat, timeoutMs, 'heartbeat confirm');
      if (this.failing) this.logger.log('heartbeats are published again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`heartbeat not published (skipped until the broker takes them again): ${errorMessage(error)}`);
      this.failing = true;
    }
  }
}
