import type { ConsumeMessage, MessagePropertyHeaders, Options } from 'amqplib';
import { AmqpHeaders } from './wire.js';

/** Headers RabbitMQ adds when dead-lettering; not copied when we republish ourselves. */
const BROKER_DEATH_HEADERS = ['x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason'];

export function retryCount(headers: MessagePropertyHeaders | undefined): number {
  const value = Number(headers?.[AmqpHeaders.RetryCount] ?? 0);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The message's headers minus the broker's death records, plus where it was first routed. */
export function republishHeaders(message: ConsumeMessage): Record<string, unknown> {
  const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) };
  for (const name of BROKER_DEATH_HEADERS) delete headers[name];
  headers[AmqpHeaders.OriginalRoutingKey] ??= message.fields.routingKey;
  return headers;
}

export function copiedProperties(message: ConsumeMessage): Options.Publish {
  const p = message.properties;
  return {
    persistent: true,
    contentType: p.contentType as string | undefined,
    messageId: p.messageId as string | undefined,
    type: p.type as string | undefined,
    appId: p.appId as string | undefined,
    timestamp: p.timestamp as number | undefined,
    correlationId: p.correlationId as string | undefined,
  };
}
