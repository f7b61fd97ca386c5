import type { MessageProperties } from 'amqplib';
import { AmqpHeaders } from './wire.js';

/**
 * When the caller of an RPC stops waiting for its reply (ms since the epoch). The
 * caller says so in header `x-deadline`; a request without it (an older publisher)
 * gets its own `expiration` (the caller's timeout, which our clients have always set)
 * or else `defaultMs`, both counted from `receivedAt`: the time it waited in the queue
 * is unknown then, so the request is given the benefit of the doubt.
 *
 * The deadline is an absolute time, not a remaining duration, so the time a request
 * waits in the queue counts against it; that relies on the hosts' clocks agreeing
 * (NTP keeps them within milliseconds, far below any RPC timeout).
 */
export function requestDeadline(properties: MessageProperties, receivedAt: number, defaultMs: number): number {
  const header = Number(properties.headers?.[AmqpHeaders.Deadline]);
  if (Number.isFinite(header) && header > 0) return header;
  const expiration = Number(properties.expiration);
  if (Number.isFinite(expiration) && expiration > 0) return receivedAt + expiration;
  return receivedAt + defaultMs;
}

/** What {@link raceDeadline} resolves with when the deadline came first. */
export const PAST_DEADLINE = Symbol('PAST_DEADLINE');

/**
 * `work`'s result, or {@link PAST_DEADLINE} once `ms` have passed without one. The work
 * itself goes on (a promise cannot be stopped); only the wait for it ends.
 */
export function raceDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof PAST_DEADLINE> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof PAST_DEADLINE>((resolve) => {
    timer = setTimeout(() => resolve(PAST_DEADLINE), Math.max(0, ms));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
