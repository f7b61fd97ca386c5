import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV, Naming } from '@flotilla/config';
import type { EventEnvelope, ServiceHeartbeatData, ServiceInstance, ServiceStatus } from '@flotilla/contracts';
import { HeartbeatListener, RabbitConnection } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';
import { enqueueNotification } from '../notifications/enqueue.js';
import { ConcurrentFirstBeat, recordBeat, recordTransition } from './instance-records.js';

interface InstanceRow {
  instance_id: string;
  service: string;
  version: string;
  started_at: Date;
  ready: boolean;
  last_heartbeat_at: Date;
  status: ServiceStatus;
}

/**
 * Service health from `service.heartbeat`: every instance's version, start, readiness
 * and last beat. An instance whose last beat is older than `SERVICE_DOWN_AFTER_MS` turns
 * `down`, and `up` again at its next fresh beat; one that said goodbye on a graceful
 * shutdown is `stopped`. Each change is recorded as a transition. Beats come from a
 * queue of their own ({@link HeartbeatListener}) and are judged by their own time, so
 * the backlog found after an outage of the admin cannot make dead instances flap.
 */
@Injectable()
export class ServiceMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ServiceMonitor.name);
  private readonly listener: HeartbeatListener;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    connection: RabbitConnection,
    naming: Naming,
    @Inject(ENV) private readonly env: AdminEnv,
  ) {
    this.listener = new HeartbeatListener(connection, naming, 'admin', (e) => this.beat(e));
  }

  async onApplicationBootstrap(): Promise<void> {
    // What turned silent while the admin was away is down before the first beat is read.
    await this.sweep().catch((error: unknown) => this.logger.warn(`health sweep failed: ${String(error)}`));
    await this.listener.start();
    const every = Math.max(250, Math.floor(this.env.SERVICE_DOWN_AFTER_MS / 5));
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.logger.warn(`health sweep failed: ${String(error)}`)), every);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.listener.stop(this.env.SHUTDOWN_GRACE_MS);
  }

  async list(): Promise<ServiceInstance[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM service_instances ORDER BY service, started_at`)) as InstanceRow[];
    const transitions = (await this.dataSource.query(
      `SELECT instance_id, at, status FROM service_transitions WHERE at > now() - interval '1 day' ORDER BY id`,
    )) as { instance_id: string; at: Date; status: ServiceStatus }[];
    return rows.map((row) => view(row, transitions.filter((t) => t.instance_id === row.instance_id)));
  }

  /** Counts of instances up, down and stopped. */
  async summary(): Promise<{ up: number; down: number; stopped: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'up')::int AS up, count(*) FILTER (WHERE status = 'down')::int AS down,
              count(*) FILTER (WHERE status = 'stopped')::int AS stopped FROM service_instances`,
    )) as { up: number; down: number; stopped: number }[];
    return row ?? { up: 0, down: 0, stopped: 0 };
  }

  private async beat(envelope: EventEnvelope<ServiceHeartbeatData>): Promise<void> {
    const data = envelope.data;
    const at = new Date(envelope.occurredAt);
    if (!data?.instanceId || !data.service || Number.isNaN(at.getTime())) return;
    const record = () =>
      this.dataSource.transaction(async (m) => {
        const move = await recordBeat(m, data, at, this.env.SERVICE_DOWN_AFTER_MS);
        // Back from down notifies, in the transaction that records it; a first beat or a restart after a goodbye does not.
        if (move?.from === 'down' && move.to === 'up') {
          await enqueueNotification(m, {
            event: 'service.up',
            sourceId: `service-transition:${move.transitionId}`,
            occurredAt: at,
            summary: `Service ${data.service} (instance ${data.instanceId}) is up again`,
            data: { service: data.service, instanceId: data.instanceId, version: data.version ?? null, status: 'up' },
          });
        }
        return move;
      });
    const moved = await record().catch((error: unknown) => (error instanceof ConcurrentFirstBeat ? record() : Promise.reject(error)));
    if (moved) this.logger.log(`${data.service} ${data.instanceId} is ${moved.to}`);
  }

  /** Instances whose beats stopped turn down. */
  private async sweep(): Promise<void> {
    const down = (await this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `UPDATE service_instances SET status = 'down', ready = false
         WHERE status = 'up' AND last_heartbeat_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
         RETURNING instance_id, service`,
        [this.env.SERVICE_DOWN_AFTER_MS],
      )) as [{ instance_id: string; service: string }[], number];
      for (const row of rows[0]) {
        const transitionId = await recordTransition(m, row.instance_id, 'down');
        // Queued with the transition: two replicas sweeping at once move (and notify) each instance once.
        await enqueueNotification(m, {
          event: 'service.down',
          sourceId: `service-transition:${transitionId}`,
          occurredAt: new Date(),
          summary: `Service ${row.service} (instance ${row.instance_id}) is down: no heartbeat for ${this.env.SERVICE_DOWN_AFTER_MS} ms`,
          data: { service: row.service, instanceId: row.instance_id, status: 'down', reason: `no heartbeat for ${this.env.SERVICE_DOWN_AFTER_MS} ms` },
        });
      }
      // Instances down or stopped for a week are forgotten.
      await m.query(`DELETE FROM service_instances WHERE status <> 'up' AND last_heartbeat_at < now() - interval '7 days'`);
      return rows[0];
    })) as { instance_id: string; service: string }[];
    for (const row of down) this.logger.warn(`${row.service} ${row.instance_id} is down: no heartbeat for ${this.env.SERVICE_DOWN_AFTER_MS} ms`);
  }
}

function view(row: InstanceRow, transitions: { at: Date; status: ServiceStatus }[]): ServiceInstance {
  return {
    service: row.service,
    instanceId: row.instance_id,
    version: row.version,
    startedAt: row.started_at.toISOString(),
    uptimeSeconds: row.status === 'up' ? Math.max(0, Math.round((Date.now() - row.started_at.getTime()) / 1000)) : 0,
    ready: row.ready,
    lastHeartbeatAt: row.last_heartbeat_at.toISOString(),
    status: row.status,
    transitions: transitions.map((t) => ({ at: t.at.toISOString(), status: t.status })),
  };
}
