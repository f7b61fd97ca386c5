import type { ServiceHeartbeatData, ServiceStatus } from '@flotilla/contracts';
import type { EntityManager } from 'typeorm';

/** A change of an instance's status: from what (null for its first beat), to what, and the transition row recording it. */
export interface InstanceMove {
  from: ServiceStatus | null;
  to: ServiceStatus;
  transitionId: string;
}

/**
 * Records one beat of an instance in `m`'s transaction and returns the move it made, or
 * undefined when it did not move. A beat is judged by its own time (`at`, when it
 * was sent), not by when it arrived: one older than what is known is ignored, and one
 * older than `downAfterMs` cannot bring an instance up (after an outage of the admin,
 * beats that waited in the queue say nothing about now). A `stopped` beat stops it,
 * whenever it was sent.
 */
export async function recordBeat(m: EntityManager, data: ServiceHeartbeatData, at: Date, downAfterMs: number): Promise<InstanceMove | undefined> {
  const [{ fresh }] = (await m.query(`SELECT $1::timestamptz > clock_timestamp() - make_interval(secs => $2::double precision / 1000) AS fresh`, [
    at,
    downAfterMs,
  ])) as { fresh: boolean }[];
  const said: ServiceStatus = data.state === 'stopped' ? 'stopped' : 'up';
  const ready = said === 'up' && Boolean(data.ready);
  const version = String(data.version ?? '').slice(0, 50);
  const [known] = (await m.query(`SELECT status, $2::timestamptz > last_heartbeat_at AS newer FROM service_instances WHERE instance_id = $1 FOR UPDATE`, [
    data.instanceId,
    at,
  ])) as { status: ServiceStatus; newer: boolean }[];

  if (!known) {
    // A first beat that is already stale: the instance is gone, nothing worth showing.
    if (said === 'up' && !fresh) return undefined;
    const inserted = (await m.query(
      `INSERT INTO service_instances (instance_id, service, version, started_at, ready, last_heartbeat_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (instance_id) DO NOTHING RETURNING instance_id`,
      [data.instanceId, String(data.service).slice(0, 100), version, data.startedAt ?? at, ready, at, said],
    )) as unknown[];
    if (inserted.length === 0) throw new ConcurrentFirstBeat();
    return { from: null, to: said, transitionId: await recordTransition(m, data.instanceId, said) };
  }
  if (!known.newer) return undefined;
  const status: ServiceStatus = said === 'stopped' || fresh ? said : known.status;
  await m.query(`UPDATE service_instances SET version = $2, ready = $3, last_heartbeat_at = $4, status = $5 WHERE instance_id = $1`, [
    data.instanceId,
    version,
    status === 'up' && ready,
    at,
    status,
  ]);
  if (status === known.status) return undefined;
  return { from: known.status, to: status, transitionId: await recordTransition(m, data.instanceId, status) };
}

/** Appends a transition of `instanceId`; returns its id. */
export async function recordTransition(m: EntityManager, instanceId: string, status: ServiceStatus): Promise<string> {
  const [row] = (await m.query(`INSERT INTO service_transitions (instance_id, status) VALUES ($1, $2) RETURNING id`, [instanceId, status])) as { id: string | number }[];
  return String(row!.id);
}

/** Another replica recorded an instance's first beat at the same moment; record this one again, as an update. */
export class ConcurrentFirstBeat extends Error {
  override readonly name = 'ConcurrentFirstBeat';
}
