import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENV } from '@flotilla/config';
import { EventTypes, type ServiceHeartbeatData, type ServiceInstance } from '@flotilla/contracts';
import { EventConsumer } from '@flotilla/messaging';
import type { AdminEnv } from '../admin.env.js';

interface InstanceRow {
  instance_id: string;
  service: string;
  version: string;
  started_at: Date;
  ready: boolean;
  last_heartbeat_at: Date;
  status: 'up' | 'down';
}

/**
 * Service health from `service.heartbeat`: every instance's version, start, readiness
 * and last beat. An instance silent for `SERVICE_DOWN_AFTER_MS` turns `down`, and
 * `up` again at its next beat; each change is recorded as a transition.
 */
@Injectable()
export class ServiceMonitor implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ServiceMonitor.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventConsumer,
    @Inject(ENV) private readonly env: AdminEnv,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.subscribe<ServiceHeartbeatData>([EventTypes.ServiceHeartbeat], (e) => this.beat(e.data, e.occurredAt));
  }

  onApplicationBootstrap(): void {
    const every = Math.max(250, Math.floor(this.env.SERVICE_DOWN_AFTER_MS / 5));
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.logger.warn(`health sweep failed: ${String(error)}`)), every);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async list(): Promise<ServiceInstance[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM service_instances ORDER BY service, started_at`)) as InstanceRow[];
    const transitions = (await this.dataSource.query(
      `SELECT instance_id, at, status FROM service_transitions WHERE at > now() - interval '1 day' ORDER BY id`,
    )) as { instance_id: string; at: Date; status: 'up' | 'down' }[];
    return rows.map((row) => view(row, transitions.filter((t) => t.instance_id === row.instance_id)));
  }

  /** Counts of instances up and down, per service. */
  async summary(): Promise<{ up: number; down: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'up')::int AS up, count(*) FILTER (WHERE status = 'down')::int AS down FROM service_instances`,
    )) as { up: number; down: number }[];
    return row ?? { up: 0, down: 0 };
  }

  private async beat(data: ServiceHeartbeatData, at: string): Promise<void> {
    if (!data?.instanceId || !data.service) return;
    const beatAt = new Date(at);
    const came = await this.dataSource.transaction(async (m) => {
      const [before] = (await m.query(`SELECT status FROM service_instances WHERE instance_id = $1 FOR UPDATE`, [data.instanceId])) as { status: string }[];
      await m.query(
        `INSERT INTO service_instances (instance_id, service, version, started_at, ready, last_heartbeat_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'up')
         ON CONFLICT (instance_id) DO UPDATE SET version = $3, ready = $5, status = 'up',
           last_heartbeat_at = GREATEST(service_instances.last_heartbeat_at, EXCLUDED.last_heartbeat_at)`,
        [data.instanceId, String(data.service).slice(0, 100), String(data.version ?? '').slice(0, 50), data.startedAt ?? at, Boolean(data.ready), beatAt],
      );
      if (before?.status === 'up') return false;
      await m.query(`INSERT INTO service_transitions (instance_id, status) VALUES ($1, 'up')`, [data.instanceId]);
      return true;
    });
    if (came) this.logger.log(`${data.service} ${data.instanceId} is up`);
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
      for (const row of rows[0]) await m.query(`INSERT INTO service_transitions (instance_id, status) VALUES ($1, 'down')`, [row.instance_id]);
      // Instances down for a week are forgotten.
      await m.query(`DELETE FROM service_instances WHERE status = 'down' AND last_heartbeat_at < now() - interval '7 days'`);
      return rows[0];
    })) as { instance_id: string; service: string }[];
    for (const row of down) this.logger.warn(`${row.service} ${row.instance_id} is down: no heartbeat for ${this.env.SERVICE_DOWN_AFTER_MS} ms`);
  }
}

function view(row: InstanceRow, transitions: { at: Date; status: 'up' | 'down' }[]): ServiceInstance {
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
