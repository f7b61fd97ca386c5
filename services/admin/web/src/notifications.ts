/**
 * Notification channels (`/admin/notifications`): the events one can subscribe to, and the
 * checks the form runs before it sends a channel, the same the server runs (the contracts'
 * NOTIFICATION_LIMITS, the gateway's CreateNotificationChannelDto), so most mistakes are
 * named next to their field without a round trip.
 */
import type { NewNotificationChannel, SubscribableEvent } from './types';

export const NOTIFICATION_EVENTS: readonly { event: SubscribableEvent; label: string }[] = [
  { event: 'store.down', label: 'A store goes down' },
  { event: 'store.up', label: 'A store is up again' },
  { event: 'store.rollback', label: 'A store rollout is rolled back' },
  { event: 'service.down', label: 'A service instance goes down' },
  { event: 'service.up', label: 'A service instance is up again' },
  { event: 'dead_letter', label: 'A message is dead-lettered' },
];

/** The contracts' NOTIFICATION_LIMITS, copied: the bundle takes no code from the contracts package. */
export const SECRET_MIN_LENGTH = 16;
export const SECRET_MAX_LENGTH = 256;
export const URL_MAX_LENGTH = 2048;
export const RECIPIENTS_MAX = 20;
export const ADDRESS_MAX_LENGTH = 254;

export interface ChannelDraft {
  kind: 'webhook' | 'email';
  url: string;
  secret: string;
  /** Addresses separated by commas, spaces or new lines. */
  recipients: string;
  events: SubscribableEvent[];
}

export type DraftField = 'kind' | 'url' | 'secret' | 'recipients' | 'events';
export type FieldErrors = Partial<Record<DraftField, string>>;

export const EMPTY_DRAFT: ChannelDraft = { kind: 'webhook', url: '', secret: '', recipients: '', events: [] };

// Loose like the server's (no top-level domain required): one @ with something on each side.
const EMAIL = /^[^\s@,;]+@[^\s@,;.][^\s@,;]*$/;

export const recipientsOf = (text: string): string[] => text.split(/[\s,;]+/).filter(Boolean);

function urlProblem(text: string): string | undefined {
  if (!text) return 'Enter the URL the webhook is posted to.';
  if (text.length > URL_MAX_LENGTH) return `The URL is longer than ${URL_MAX_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter a full URL, such as https://hooks.example.com/flotilla.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The URL must start with https:// or http://.';
  return undefined;
}

function recipientsProblem(to: string[]): string | undefined {
  if (to.length === 0) return 'Enter at least one e-mail address.';
  if (to.length > RECIPIENTS_MAX) return `Enter at most ${RECIPIENTS_MAX} addresses.`;
  const long = to.find((address) => address.length > ADDRESS_MAX_LENGTH);
  if (long) return `An address is longer than ${ADDRESS_MAX_LENGTH} characters.`;
  const bad = to.filter((address) => !EMAIL.test(address));
  if (bad.length > 0) return `Not an e-mail address: ${bad.join(', ')}.`;
  if (new Set(to.map((a) => a.toLowerCase())).size !== to.length) return 'An address is listed twice.';
  return undefined;
}

/** The body to POST, or what is wrong with each field. */
export function validateDraft(draft: ChannelDraft): { body: NewNotificationChannel; errors?: undefined } | { body?: undefined; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (draft.events.length === 0) errors.events = 'Choose at least one event.';
  if (draft.kind === 'webhook') {
    const url = draft.url.trim();
    const urlError = urlProblem(url);
    if (urlError) errors.url = urlError;
    if (draft.secret.length < SECRET_MIN_LENGTH) errors.secret = `The secret needs at least ${SECRET_MIN_LENGTH} characters.`;
    else if (draft.secret.length > SECRET_MAX_LENGTH) errors.secret = `The secret can have at most ${SECRET_MAX_LENGTH} characters.`;
    if (Object.keys(errors).length > 0) return { errors };
    return { body: { kind: 'webhook', url, secret: draft.secret, events: draft.events } };
  }
  const to = recipientsOf(draft.recipients);
  const toError = recipientsProblem(to);
  if (toError) errors.recipients = toError;
  if (Object.keys(errors).length > 0) return { errors };
  return { body: { kind: 'email', to, events: draft.events } };
}

/** A server's `errors[].path` (`url`, `/to/0`, `to[1]`, `events`) as the form field it is about. */
export function fieldOf(path: string): DraftField | undefined {
  const head = path.replace(/^[/.]+/, '').split(/[/.[]/)[0];
  if (head === 'to') return 'recipients';
  return head === 'kind' || head === 'url' || head === 'secret' || head === 'events' ? head : undefined;
}
