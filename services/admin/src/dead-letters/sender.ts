import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Redis } from 'ioredis';
import { AmqpHeaders, parseDeadLetter, recordToFields } from '@flotilla/messaging';
import type { DeadLetterRow } from './dead-letter-row.js';

/** Headers of a death that must not go back with the message: the consumer counts its attempts afresh. */
const DEATH_HEADERS = [
  AmqpHeaders.RetryCount,
  AmqpHeaders.Error,
  AmqpHeaders.LastError,
  AmqpHeaders.FailedAt,
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
];

/**
 * Sends a dead letter back to where it failed: a message to the queue of the service it
 * failed in (not to the topic, which would reach every subscriber again), a stream
 * entry's original fields, unchanged, to its stream. Resolves once the broker confirmed
 * or Redis answered; rejects after `timeoutMs` (the send may still land then).
 */
export class DeadLetterSender {
  constructor(
    private readonly channel: () => ChannelWrapper | undefined,
    private readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {}

  async send(row: DeadLetterRow): Promise<void> {
    if (row.kind === 'queue') await this.sendMessage(row);
    else await this.addEntry(row);
  }

  private async sendMessage(row: DeadLetterRow): Promise<void> {
    const channel = this.channel();
    if (!channel) throw new Error('the message broker is not reachable');
    const headers = { ...row.headers };
    for (const name of DEATH_HEADERS) delete headers[name];
    // The message id it had (the part of its identity before the content hash), and none if it had none:
    // consumers dedupe by it, and a letter that dies again is known by it.
    const messageId = row.origin_id.slice(0, row.origin_id.lastIndexOf(':'));
    await channel.sendToQueue(row.source.replace(/\.dlq$/, ''), Buffer.from(row.raw, 'base64'), {
      persistent: true,
      contentType: 'application/json',
      ...(row.type ? { type: row.type } : {}),
      ...(messageId ? { messageId } : {}),
      headers: { ...headers, 'x-replayed-from': row.id, 'x-replay': row.replays + 1 },
      timeout: this.timeoutMs,
    });
  }

  private async addEntry(row: DeadLetterRow): Promise<void> {
    const letter = parseDeadLetter(JSON.parse(row.raw) as Record<string, string>);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.xadd(row.source, '*', ...recordToFields(letter.fields)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
