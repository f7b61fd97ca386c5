/**
 * The shapes the console shows. Those of the public API come from the shared contracts
 * (types only: nothing of the contracts package ends up in the bundle); the admin list
 * items that have no contract of their own are described here.
 */
import type { DatasetSummary, ValidationIssue, ValidationJobStatus } from '@flotilla/contracts';

export type {
  AdminStats,
  AuditEntry,
  CleanupRun,
  DatasetDetail,
  DatasetSummary,
  DeadLetter,
  Poll,
  PollResults,
  RequestRecord,
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

/** What a notification channel can be told about (`/admin/notifications`). */
export type NotificationEvent = 'store.down' | 'store.up' | 'store.rollback' | 'service.down' | 'service.up' | 'dead_letter';

/** `GET /admin/notifications` items. The secret itself is never sent back, only whether one is set. */
export interface NotificationChannel {
  id: string;
  kind: 'webhook' | 'email';
  url?: string;
  to?: string[];
  events: NotificationEvent[];
  secretSet?: boolean;
  createdAt: string;
  createdBy: string;
  lastDelivery: { at: string; status: NotificationDelivery['status']; error: string | null } | null;
}

/** `POST /admin/notifications` bodies. */
export type NewNotificationChannel =
  | { kind: 'webhook'; url: string; secret: string; events: NotificationEvent[] }
  | { kind: 'email'; to: string[]; events: NotificationEvent[] };

/** `GET /admin/notifications/{id}/deliveries` items. */
export interface NotificationDelivery {
  id: string;
  event: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}
