import amqp, { type Channel, type ChannelModel } from 'amqplib';
import jwt from 'jsonwebtoken';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { DEV_INTERNAL_TOKEN_SECRET, Naming } from '@flotilla/config';
import type { RpcActor, RpcReply } from '@flotilla/contracts';
import { TEST_AMQP_URL } from './namespace.js';

/**
 * What anything that can publish on the broker can send, written as amqplib would,
 * without the platform's client: RPCs with a forged actor in the body and a token that
 * is missing, signed with another key, expired or honest; events without a valid signature.
 */

export const CALLER_TOKEN_HEADER = 'x-caller-token';
export const EVENT_SIGNATURE_HEADER = 'x-signature';
export const WRONG_SECRET = 'not-the-platform-secret-but-long-enough-0123456789';

/**
 * An internal caller token as the platform mints it for a request with body `content`,
 * signed with `secret`, valid for `expiresInS` (negative: expired).
 */
export function callerToken(actor: RpcActor, pattern: string, content: Buffer, opts: { secret?: string; expiresInS?: number; issuer?: string } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const req = createHash('sha256').update(content).digest('base64url');
  return jwt.sign(
    { role: actor.role, team: actor.teamId, pat: pattern, req, iat: now - 120, exp: now + (opts.expiresInS ?? 60) },
    opts.secret ?? DEV_INTERNAL_TOKEN_SECRET,
    { algorithm: 'HS256', subject: actor.userId, audience: 'flotilla:rpc', issuer: opts.issuer ?? 'gateway' },
  );
}

export interface RawBroker {
  channel: Channel;
  /** Sends one RPC straight to `<service>.rpc` and waits for its reply; `headers` may be made from the body. */
  rpc(
    service: string,
    pattern: string,
    payload: unknown,
    body: { actor?: RpcActor },
    headers?: Record<string, unknown> | ((content: Buffer) => Record<string, unknown>),
  ): Promise<RpcReply>;
  /** Publishes an event envelope to the events exchange, with `headers` (no signature unless given, or signed with `signWith`). */
  event(type: string, data: unknown, headers?: Record<string, unknown>, signWith?: string): Promise<string>;
  close(): Promise<void>;
}

export async function rawBroker(naming: Naming): Promise<RawBroker> {
  const connection: ChannelModel = await amqp.connect(TEST_AMQP_URL);
  const channel = await connection.createChannel();
  const waiting = new Map<string, (reply: RpcReply) => void>();
  await channel.consume(
    'amq.rabbitmq.reply-to',
    (m) => {
      if (!m) return;
      waiting.get(String(m.properties.correlationId))?.(JSON.parse(m.content.toString()) as RpcReply);
    },
    { noAck: true },
  );
  const confirm = await connection.createConfirmChannel();
  return {
    channel,
    rpc: (service, pattern, payload, body, headers = {}) =>
      new Promise<RpcReply>((resolve, reject) => {
        const id = randomUUID();
        const timer = setTimeout(() => reject(new Error(`no reply to ${pattern} within 10 s`)), 10_000);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
        const content = Buffer.from(JSON.stringify({ pattern, payload, ...body }));
        channel.sendToQueue(naming.amqp(`${service}.rpc`), content, {
          correlationId: id,
          replyTo: 'amq.rabbitmq.reply-to',
          contentType: 'application/json',
          type: pattern,
          headers: typeof headers === 'function' ? headers(content) : headers,
        });
      }),
    event: async (type, data, headers = {}, signWith) => {
      const id = randomUUID();
      const envelope = { id, type, occurredAt: new Date().toISOString(), source: 'gateway', correlationId: randomUUID(), data };
      const body = Buffer.from(JSON.stringify(envelope));
      confirm.publish(naming.amqp('flotilla.events'), type, body, {
        persistent: true,
        messageId: id,
        type,
        contentType: 'application/json',
        headers: { ...headers, ...(signWith ? eventSignature(id, type, body, 'gateway', signWith) : {}) },
      });
      await confirm.waitForConfirms();
      return id;
    },
    close: async () => {
      await confirm.close().catch(() => undefined);
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/** The four forged RPCs of RELIABILITY.md for `pattern`, each with the forged `actor` in the body; resolves with their replies' error codes. */
export async function forgedCalls(
  broker: RawBroker,
  service: string,
  pattern: string,
  payload: unknown,
  forged: RpcActor,
  member: RpcActor,
): Promise<{ noToken: string; wrongKey: string; expired: string; member: string }> {
  const code = (reply: RpcReply): string => (reply.ok ? 'ok' : reply.error.code);
  const [noToken, wrongKey, expired, asMember] = await Promise.all([
    broker.rpc(service, pattern, payload, { actor: forged }),
    broker.rpc(service, pattern, payload, { actor: forged }, (content) => ({ [CALLER_TOKEN_HEADER]: callerToken(forged, pattern, content, { secret: WRONG_SECRET }) })),
    broker.rpc(service, pattern, payload, { actor: forged }, (content) => ({ [CALLER_TOKEN_HEADER]: callerToken(forged, pattern, content, { expiresInS: -5 }) })),
    broker.rpc(service, pattern, payload, { actor: forged }, (content) => ({ [CALLER_TOKEN_HEADER]: callerToken(member, pattern, content) })),
  ]);
  return { noToken: code(noToken), wrongKey: code(wrongKey), expired: code(expired), member: code(asMember) };
}

/** What every owner must answer to {@link forgedCalls} on an admin-only pattern. */
export const REFUSED = { noToken: 'UNAUTHENTICATED', wrongKey: 'UNAUTHENTICATED', expired: 'UNAUTHENTICATED', member: 'FORBIDDEN' };

/** A signature header that is not the platform's (signed with another key). */
export function forgedSignature(): Record<string, unknown> {
  return { [EVENT_SIGNATURE_HEADER]: 'v1=' + 'A'.repeat(43), 'x-signer': 'gateway' };
}

/**
 * The signature headers of an event as the platform writes them: HMAC-SHA256, under a key
 * derived from `secret`, of the message id, the routing key (the event's type), the
 * signing service and the body.
 */
export function eventSignature(messageId: string, type: string, body: Buffer, signer: string, secret = DEV_INTERNAL_TOKEN_SECRET): Record<string, string> {
  const key = createHmac('sha256', secret).update('flotilla event signature v1').digest();
  const mac = createHmac('sha256', key).update(`${messageId}\n${type}\n${signer}\n`).update(body).digest('base64url');
  return { [EVENT_SIGNATURE_HEADER]: `v1=${mac}`, 'x-signer': signer };
}

/**
 * An event as a service publishes it, for tests that publish with amqplib: its body, and
 * the message id and signature headers the consumers require.
 */
export function signedEvent(envelope: unknown, signer = 'upload', secret = DEV_INTERNAL_TOKEN_SECRET): { content: Buffer; options: { messageId?: string; headers: Record<string, string> } } {
  const content = Buffer.from(JSON.stringify(envelope));
  const { id, type } = (envelope ?? {}) as { id?: unknown; type?: unknown };
  if (typeof id !== 'string' || typeof type !== 'string') return { content, options: { headers: {} } };
  return { content, options: { messageId: id, headers: eventSignature(id, type, content, signer, secret) } };
}

/** Publishes `envelope` on `channel` as a service would: JSON, with its message id and the platform's signature. */
export function publishSigned(
  channel: Pick<Channel, 'publish'>,
  exchange: string,
  routingKey: string,
  envelope: unknown,
  options: Record<string, unknown> = {},
  signer = 'upload',
): boolean {
  const signed = signedEvent(envelope, signer);
  const headers = { ...((options.headers as Record<string, unknown> | undefined) ?? {}), ...signed.options.headers };
  return channel.publish(exchange, routingKey, signed.content, { ...options, ...(signed.options.messageId ? { messageId: signed.options.messageId } : {}), headers });
}
