import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { correlationId } from '@flotilla/observability';
import { REDIS } from '../redis/redis.constants.js';
import { recordToFields } from './stream-entry.js';
import { traceHeaders } from '../trace-context.js';

/**
 * Appends an entry to `stream` with the current `correlationId` (unless the fields carry
 * one) and trace context and resolves with its id. No MAXLEN: streams are trimmed by their consumers, and
 * only below what every group has acknowledged. Rejects at once when Redis is down
 * (see {@link isRedisUnavailable}).
 */
export async function xadd(redis: Redis, stream: string, fields: Record<string, string>): Promise<string> {
  // The trace context of the work that adds it (`traceparent`, `tracestate`), when traced.
  const entry = { ...traceHeaders(), ...fields, correlationId: fields.correlationId ?? correlationId() };
  const id = await redis.xadd(stream, '*', ...recordToFields(entry));
  if (id === null) throw new Error(`XADD to ${stream} returned no id`);
  return id;
}

/** {@link xadd} on the service's shared connection, for injection. */
@Injectable()
export class StreamProducer {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** See {@link xadd}. */
  xadd(stream: string, fields: Record<string, string>): Promise<string> {
    return xadd(this.redis, stream, fields);
  }
}
