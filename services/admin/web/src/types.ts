/**
 * The shapes the console shows. Those of the public API come from the shared contracts
 * (types only: nothing of the contracts package ends up in the bundle); the admin list
 * items that have no contract of their own are described here.
 */
import type { DatasetSummary, NotificationEvents, ValidationIssue, ValidationJobStatus } from '@flotilla/contracts';

export type {
  AdminStats,
  AuditEntry,
  CleanupRun,
  DatasetDetail,
  DatasetSummary,
  DeadLetter,
  NotificationChannel,
  NotificationDelivery,
  NotificationEvent,
  Poll,
  PollResults,
  RequestRecord,
  RolloutAction,
  RolloutState,
  RolloutStep,
  ServiceInstance,
  Store,
  StoreEvent,
  StoreHealth,
  StorePod,
  ValidationIssue,
  ValidationJobStatus,
  ValidationStatus,
} from '@flotilla/contracts';

/** A list answer; `nextCursor` is absent on lists that are not paged. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

/** `GET /admin/datasets` items: a dataset summary with its team. */
export interface AdminDataset extends DatasetSummary {
  teamId: string;
}

/** `GET /admin/validations` items. */
export interface AdminValidation {
  datasetId: string;
  jobId: string;
  teamId: string;
  status: ValidationJobStatus;
  queuedAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  summary: { errors: number; warnings: number };
  issues?: ValidationIssue[];
}

/** `GET /auth/me`. */
export interface Me {
  id: string;
  email: string;
  role: 'admin' | 'member';
  team: { id: string; name: string } | null;
}

/** The events a channel can subscribe to (`test` is only sent by a channel's test). */
export type SubscribableEvent = (typeof NotificationEvents)[number];

/** `POST /admin/notifications` bodies: a webhook or an e-mail channel, never a mix. */
export type NewNotificationChannel =
  | { kind: 'webhook'; url: string; secret: string; events: SubscribableEvent[] }
  | { kind: 'email'; to: string[]; events: SubscribableEvent[] };
