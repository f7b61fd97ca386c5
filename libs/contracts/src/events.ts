/** The event envelope on the `flotilla.events` topic exchange; routing key = `type`. */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  occurredAt: string;
  source: string;
  correlationId: string;
  data: T;
}

/** Routing keys of the events published so far. */
export const EventTypes = {
  ServiceHeartbeat: 'service.heartbeat',
  PollCreated: 'poll.created',
} as const;

export interface ServiceHeartbeatData {
  service: string;
  instanceId: string;
  version: string;
  startedAt: string;
  ready: boolean;
  /** `stopped`: the instance's last beat, sent as it shuts down gracefully. Absent from older publishers: `running`. */
  state?: 'running' | 'stopped';
}
