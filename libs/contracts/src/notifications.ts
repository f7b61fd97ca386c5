/**
 * Admin-configured notifications: the channels (webhooks and e-mail), the events they
 * subscribe to and the shapes of `/admin/notifications` (API.md, Stores).
 */

/** What a channel can subscribe to; `test` is only ever sent by a test send, to the one channel. */
export const NotificationEvents = ['store.down', 'store.up', 'store.rollback', 'service.down', 'service.up', 'dead_letter'] as const;
export type NotificationEvent = (typeof NotificationEvents)[number] | 'test';

export const NotificationChannelKinds = ['webhook', 'email'] as const;
export type NotificationChannelKind = (typeof NotificationChannelKinds)[number];

/** Bounds of a channel, checked at the gateway and again by the admin service. */
export const NOTIFICATION_LIMITS = {
  urlMax: 2048,
  secretMin: 16,
  secretMax: 256,
  recipientsMax: 20,
  addressMax: 254,
} as const;

export type NotificationDeliveryStatus = 'pending' | 'sent' | 'dead';

export interface NotificationChannel {
  id: string;
  kind: NotificationChannelKind;
  /** Webhooks only. */
  url?: string;
  /** E-mail only. */
  to?: string[];
  events: NotificationEvent[];
  /** Webhooks only: a secret is set (it is never returned). */
  secretSet?: boolean;
  createdAt: string;
  /** User id of the administrator who created it. */
  createdBy: string | null;
  /** The channel's latest delivery, or null before the first. */
  lastDelivery: { at: string; status: NotificationDeliveryStatus; error: string | null } | null;
  /** On creation only: something that will keep deliveries from succeeding (an e-mail channel while SMTP is not configured). */
  warning?: string;
}

export interface NotificationDelivery {
  id: string;
  event: NotificationEvent;
  status: NotificationDeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface CreateNotificationChannelRequest {
  kind: NotificationChannelKind;
  url?: string;
  secret?: string;
  to?: string[];
  events: string[];
}

/** The JSON body of a webhook delivery; signed as `X-Flotilla-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export interface NotificationPayload {
  /** The delivery's id, as in `X-Flotilla-Delivery`: the same on every retry. */
  id: string;
  event: NotificationEvent;
  occurredAt: string;
  summary: string;
  data: Record<string, unknown>;
}

export const NotificationHeaders = {
  Event: 'X-Flotilla-Event',
  Delivery: 'X-Flotilla-Delivery',
  Timestamp: 'X-Flotilla-Timestamp',
  Signature: 'X-Flotilla-Signature',
} as const;
