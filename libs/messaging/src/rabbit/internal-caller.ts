import type { RpcActor } from '@flotilla/contracts';
import jwt from 'jsonwebtoken';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AmqpHeaders } from './wire.js';

/** Audience of caller tokens on RPCs: a token minted for anything else is not taken. */
export const RPC_TOKEN_AUDIENCE = 'flotilla:rpc';
/** Shortest life of a caller token; a call's own timeout is added on top when longer. */
const MIN_TOKEN_LIFETIME_S = 60;
/** Clock difference between services that a token's `iat`/`exp` tolerates. */
const CLOCK_TOLERANCE_S = 5;
/** Label of the key derived from the secret for event signatures, so one secret never signs two kinds of thing alike. */
const EVENT_KEY_LABEL = 'flotilla event signature v1';
const SIGNATURE_VERSION = 'v1=';

/** Who made an RPC, as its verified caller token says. */
export interface VerifiedCaller {
  /** The service that minted the token (the JWT's `iss`). */
  service: string;
  /** The user on whose behalf it runs; absent when the service calls on its own. */
  actor?: RpcActor;
}

/** Why a caller token or an event signature was refused (a metric label and a log word). */
export type RefusalReason = 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' | 'pattern' | 'request';

export class CallerRefused {
  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
  ) {}
}

interface CallerClaims {
  sub?: string;
  role?: unknown;
  team?: unknown;
  pat?: unknown;
  req?: unknown;
  iss?: unknown;
  exp?: unknown;
}

/**
 * The internal caller of RPCs and the signature of events, both keyed by
 * `INTERNAL_TOKEN_SECRET`, which only the services hold.
 *
 * An RPC carries a short-lived HS256 JWT (header `x-caller-token`): `iss` the calling
 * service, `sub`/`role`/`team` the user it acts for (none when the service calls on its
 * own), `pat` the pattern it was minted for, `req` the SHA-256 of the request body it
 * travels with (so a token read off the broker cannot carry another payload), `aud`
 * {@link RPC_TOKEN_AUDIENCE}, and `exp` at least a minute and beyond the call's timeout. An event carries instead an HMAC
 * (header `x-signature`, with the signer in `x-signer`): events may wait in an outbox or a
 * queue for hours, which no short-lived token would survive, and the signature does not
 * expire — it binds the message id, the routing key (the event's type), the signer and
 * the body.
 */
export class InternalCaller {
  private readonly eventKey: Buffer;

  constructor(
    private readonly secret: string,
    /** The service this process is: the `iss` of its tokens, the signer of its events. */
    readonly service: string,
  ) {
    this.eventKey = createHmac('sha256', secret).update(EVENT_KEY_LABEL).digest();
  }

  /** A token for one call of `pattern` with body `content`, on `actor`'s behalf or, without one, as this service. */
  mint(pattern: string, actor: RpcActor | undefined, timeoutMs: number, content: Buffer): string {
    const lifetime = Math.max(MIN_TOKEN_LIFETIME_S, Math.ceil(timeoutMs / 1000) + 30);
    const bound = { pat: pattern, req: requestDigest(content) };
    const claims = actor ? { role: actor.role, team: actor.teamId, ...bound } : bound;
    return jwt.sign(claims, this.secret, {
      algorithm: 'HS256',
      audience: RPC_TOKEN_AUDIENCE,
      issuer: this.service,
      expiresIn: lifetime,
      ...(actor ? { subject: actor.userId } : {}),
    });
  }

  /** The caller of a request for `pattern` with body `content`, or why its token is refused. */
  verify(token: unknown, pattern: string, content: Buffer): VerifiedCaller | CallerRefused {
    if (token === undefined || token === null || token === '') return new CallerRefused('missing', 'the request carries no caller token');
    const text = Buffer.isBuffer(token) ? token.toString('utf8') : token;
    if (typeof text !== 'string' || text.length > 4096) return new CallerRefused('malformed', 'the caller token is not a string');
    let claims: CallerClaims;
    try {
      claims = jwt.verify(text, this.secret, {
        algorithms: ['HS256'],
        audience: RPC_TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
      }) as CallerClaims;
    } catch (error) {
      return refusalOf(error);
    }
    if (typeof claims.exp !== 'number') return new CallerRefused('malformed', 'the caller token has no expiry');
    if (typeof claims.iss !== 'string' || claims.iss.length === 0) return new CallerRefused('malformed', 'the caller token names no service');
    if (claims.pat !== pattern) return new CallerRefused('pattern', 'the caller token was minted for another pattern');
    if (claims.req !== requestDigest(content)) return new CallerRefused('request', 'the caller token was minted for another request body');
    if (claims.sub === undefined) return { service: claims.iss };
    if (typeof claims.sub !== 'string' || (claims.role !== 'admin' && claims.role !== 'member') || (claims.team !== null && typeof claims.team !== 'string')) {
      return new CallerRefused('malformed', 'the caller token names a malformed user');
    }
    return { service: claims.iss, actor: { userId: claims.sub, role: claims.role, teamId: claims.team } };
  }

  /** The headers that sign an event published by this service. */
  signEvent(messageId: string, type: string, body: Buffer): Record<string, string> {
    return { [SIGNATURE_HEADER]: SIGNATURE_VERSION + this.mac(messageId, type, this.service, body), [SIGNER_HEADER]: this.service };
  }

  /** `undefined` when the event's signature is the platform's, otherwise why it is refused. */
  verifyEvent(messageId: unknown, type: string, body: Buffer, headers: Record<string, unknown> | undefined): CallerRefused | undefined {
    const signature = headers?.[SIGNATURE_HEADER];
    const signer = headers?.[SIGNER_HEADER];
    if (signature === undefined) return new CallerRefused('missing', 'the event carries no signature');
    if (typeof signature !== 'string' || !signature.startsWith(SIGNATURE_VERSION) || typeof signer !== 'string' || typeof messageId !== 'string' || messageId === '') {
      return new CallerRefused('malformed', 'the event signature, signer or message id is malformed');
    }
    const expected = Buffer.from(this.mac(messageId, type, signer, body));
    const given = Buffer.from(signature.slice(SIGNATURE_VERSION.length));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return new CallerRefused('signature', 'the event signature is not the platform\'s');
    return undefined;
  }

  private mac(messageId: string, type: string, signer: string, body: Buffer): string {
    return createHmac('sha256', this.eventKey).update(`${messageId}\n${type}\n${signer}\n`).update(body).digest('base64url');
  }
}

/** Header of the caller token on an RPC request. */
export const CALLER_TOKEN_HEADER = AmqpHeaders.CallerToken;
/** Header of an event's signature (`v1=<base64url HMAC-SHA256>`). */
export const SIGNATURE_HEADER = AmqpHeaders.Signature;
/** Header naming the service that signed an event. */
export const SIGNER_HEADER = AmqpHeaders.Signer;

/** The SHA-256 of a request body, base64url: what a caller token is bound to. */
export function requestDigest(content: Buffer): string {
  return createHash('sha256').update(content).digest('base64url');
}

function refusalOf(error: unknown): CallerRefused {
  if (error instanceof jwt.TokenExpiredError) return new CallerRefused('expired', 'the caller token has expired');
  if (error instanceof jwt.JsonWebTokenError && /audience/.test(error.message)) return new CallerRefused('audience', 'the caller token is for another purpose');
  if (error instanceof jwt.JsonWebTokenError && /signature/.test(error.message)) return new CallerRefused('signature', 'the caller token is not signed with the platform\'s key');
  return new CallerRefused('malformed', 'the caller token is malformed');
}

/** True when the verified caller may use an administrators' pattern: an administrator, or one of `services` calling on its own. */
export function isAdminCaller(meta: { actor?: RpcActor; caller?: VerifiedCaller }, services: readonly string[] = []): boolean {
  if (meta.actor) return meta.actor.role === 'admin';
  return meta.caller !== undefined && services.includes(meta.caller.service);
}
