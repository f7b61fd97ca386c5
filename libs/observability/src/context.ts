import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What travels with a unit of work: the HTTP request, RPC call, event or stream entry. */
export interface WorkContext {
  correlationId: string;
  userId?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

/** Runs `fn` with `context` visible to every log line and outgoing message below it. */
export function runWithContext<T>(context: WorkContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): WorkContext | undefined {
  return storage.getStore();
}

/** The current correlation id, or a new one when work starts outside any context. */
export function correlationId(): string {
  return storage.getStore()?.correlationId ?? randomUUID();
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Accepts a caller-supplied id only when it is short and printable; otherwise makes one. */
export function acceptCorrelationId(candidate: unknown): string {
  return typeof candidate === 'string' && SAFE_ID.test(candidate) ? candidate : randomUUID();
}
