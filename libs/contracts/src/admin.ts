/**
 * Admin: the `admin.*` RPC patterns behind the gateway's `/admin/*` routes, the audit
 * and heartbeat events, and the shapes the admin API and console share.
 */
import type { DatasetStatus, ValidationJobStatus } from './datasets.js';
import type { StoreStatus } from './stores.js';

export const AdminRpc = {
  Stats: 'admin.stats',
  Requests: 'admin.requests',
  Audit: 'admin.audit',
  Datasets: 'admin.datasets',
  Validations: 'admin.validations',
  DeadLetters: 'admin.deadLetters',
  ReplayDeadLetter: 'admin.replayDeadLetter',
  DiscardDeadLetter: 'admin.discardDeadLetter',
  /** Bulk: {@link DeadLetterBulkRequest} → {@link DeadLetterBulkResult}. */
  ReplayDeadLetters: 'admin.replayDeadLetters',
  DiscardDeadLetters: 'admin.discardDeadLetters',
  RunCleanup: 'admin.runCleanup',
  CleanupLog: 'admin.cleanupLog',
  Services: 'admin.services',
  Notifications: 'admin.notifications',
  CreateNotification: 'admin.createNotification',
  DeleteNotification: 'admin.deleteNotification',
  TestNotification: 'admin.testNotification',
  NotificationDeliveries: 'admin.notificationDeliveries',
} as const;

/** RPC patterns the admin calls on the data owners. */
export const UploadAdminRpc = {
  /** Deletes datasets created before `before` (objects and rows); returns what was freed. */
  Purge: 'upload.purge',
  Counts: 'upload.counts',
} as const;

export const ValidatorAdminRpc = {
  List: 'validator.list',
  Counts: 'validator.counts',
} as const;

export const VotesAdminRpc = {
  Counts: 'votes.counts',
} as const;

export const ProvisionerAdminRpc = {
  Counts: 'provisioner.counts',
} as const;

/** Security-relevant actions, published as `audit.<action>` by whoever performs them. */
export const AuditActions = {
  LoginSucceeded: 'login.succeeded',
  LoginFailed: 'login.failed',
  LoginThrottled: 'login.throttled',
  TokenReuse: 'token.reuse',
  Logout: 'logout',
  TeamCreated: 'team.created',
  UserCreated: 'user.created',
  /** Role, team, disabled or password changed (which of them in `details.changed`; never the password itself). */
  UserUpdated: 'user.updated',
  UserDeleted: 'user.deleted',
  DatasetDeleted: 'dataset.deleted',
  StoreDeleted: 'store.deleted',
  Chaos: 'store.chaos',
  /** An administrator set a simulated store's CPU load (`details.cpuPercent`). */
  StoreLoad: 'store.load',
  /** A rollout steered by a team member (`details.action`: promote, pause, resume or abort; `details.full` for a full promote). */
  RolloutControlled: 'store.rollout',
  DeadLetterReplayed: 'dead_letter.replayed',
  DeadLetterDiscarded: 'dead_letter.discarded',
  /** A bulk replay or discard (each letter is audited on its own too). */
  DeadLettersReplayed: 'dead_letters.replayed',
  DeadLettersDiscarded: 'dead_letters.discarded',
  CleanupRun: 'cleanup.run',
  NotificationCreated: 'notification.created',
  NotificationDeleted: 'notification.deleted',
  NotificationTested: 'notification.tested',
  /** A notification delivery that failed its last attempt (its channel's deliveries show it `dead`). */
  NotificationDead: 'notification.dead',
} as const;

/** Data of an `audit.*` event. */
export interface AuditEventData {
  action: string;
  outcome: 'success' | 'failure';
  /** User id of who did it, when known. */
  actorId: string | null;
  /** Email of who did it (or tried to), when known. */
  actorEmail?: string | null;
  ip?: string | null;
  /** What it was done to, e.g. `user:<id>`, `store:<id>`. */
  target?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEventData {
  id: string;
  at: string;
  source: string;
}

/** A persisted request (the `requests` stream entry after the admin stored it). */
export interface RequestRecord {
  id: string;
  at: string;
  method: string;
  route: string;
  path: string;
  status: number;
  durationMs: number;
  userId: string | null;
  ip: string;
  correlationId: string;
  userAgent: string;
  requestBytes: number;
  responseBytes: number;
}

/**
 * Where a dead letter is: `dead` (waiting for an operator), `replaying` (claimed by one
 * replay, being sent), `replayed` (sent back), `discarded` (kept, never processed).
 * A replayed letter that fails again comes back `dead`.
 */
export type DeadLetterStatus = 'dead' | 'replaying' | 'replayed' | 'discarded';

/** One step of a dead letter's life, oldest first. */
export interface DeadLetterHistoryEntry {
  at: string;
  /**
   * `dead`: it failed (again); `replayed`: sent back; `replay_failed`: the send failed;
   * `replay_interrupted`: a replay claimed it and never finished; `discarded`.
   */
  event: 'dead' | 'replayed' | 'replay_failed' | 'replay_interrupted' | 'discarded';
  error?: string;
  attempts?: number;
  /** User id of whoever replayed or discarded it. */
  by?: string | null;
}

export interface DeadLetter {
  id: string;
  /** `queue`: a RabbitMQ dead-letter queue; `stream`: a Redis dead-letter stream. */
  kind: 'queue' | 'stream';
  /** The queue or stream it failed in. */
  source: string;
  type: string | null;
  /** The last failure's error. */
  error: string;
  failedAt: string;
  /** Attempts of the last failure. */
  attempts: number;
  payload: unknown;
  status: DeadLetterStatus;
  handledAt: string | null;
  /** How many times it was sent back. */
  replays: number;
  history: DeadLetterHistoryEntry[];
}

/** A page of `GET /admin/dead-letters`: `total` counts every letter the filter matches. */
export interface DeadLetterPage {
  items: DeadLetter[];
  nextCursor: string | null;
  total: number;
  /** Every queue and stream dead letters are collected from. */
  sources: string[];
}

/** Body of the bulk replay and discard: exactly one of `ids` and `filter`. */
export interface DeadLetterBulkRequest {
  ids?: string[];
  filter?: { source?: string; q?: string };
  /** Only count what would be acted on. */
  dryRun?: boolean;
}

/** `matched`: waiting (`dead`) letters the request selects; the other figure: those acted on. */
export type DeadLetterBulkResult = { matched: number; dryRun: boolean } & ({ replayed: number } | { discarded: number });

export interface CleanupRun {
  id: string;
  trigger: 'schedule' | 'manual';
  actorId: string | null;
  retentionDays: number;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'succeeded' | 'failed';
  datasetsDeleted: number;
  objectsDeleted: number;
  bytesFreed: number;
  error: string | null;
}

export interface ServiceInstance {
  service: string;
  instanceId: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  ready: boolean;
  lastHeartbeatAt: string;
  /** `down`: no heartbeat for the admin's threshold (crashed, hung or cut off); `stopped`: said goodbye on a graceful shutdown. */
  status: ServiceStatus;
  transitions: { at: string; status: ServiceStatus }[];
}

export type ServiceStatus = 'up' | 'down' | 'stopped';

export interface AdminStats {
  generatedAt: string;
  users: number;
  teams: number;
  datasets: Partial<Record<DatasetStatus, number>>;
  validations: Partial<Record<ValidationJobStatus, number>>;
  votes: { total: number; polls: number };
  stores: Partial<Record<StoreStatus, number>>;
  jobs: Record<string, number>;
  queues: { validation: number | null; voteStreamLag: number | null; voteStreamPending: number | null; deadLetters: number };
  requests: { lastHour: number; errors: number; errorRate: number; perSecond: number };
  /** Parts of the figures that could not be gathered (a service down), by name. */
  unavailable: string[];
}

/** Heartbeat interval every service publishes `service.heartbeat` at. */
export const HEARTBEAT_INTERVAL_MS = 5000;

/** Content-Security-Policy of the admin web console: everything from its own origin, nothing inline, no framing. */
export const ADMIN_CONSOLE_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
