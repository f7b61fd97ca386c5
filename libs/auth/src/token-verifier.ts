import { UnauthorizedException, type Provider } from '@nestjs/common';
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { currentContext } from '@flotilla/observability';
import { hasLifetime, JWT_VERIFY_OPTIONS, userOfClaims, versionOfClaims, type AuthUser } from './auth.types.js';

export const JWT_SECRET = Symbol('JWT_SECRET');

/**
 * Optional check that a token's user still exists and is active; a service that owns
 * users provides it so tokens of deleted users stop working. When the check cannot be
 * made (its database is down) it rejects, unless `tolerateOutage` lets it answer from
 * what it knew before (a route that asks for that, see {@link authenticate}).
 */
export const ACTIVE_USER_CHECK = Symbol('ACTIVE_USER_CHECK');
export type ActiveUserCheck = ((userId: string, tolerateOutage?: boolean) => Promise<boolean>) & {
  /** Optional: true when the check would answer true right now without any I/O (lets a caller skip the await). */
  knownActive?: (userId: string) => boolean;
};

/**
 * Optional check that a token has not been revoked: its version (claim `ver`) is still
 * the user's current one. A service that can revoke tokens provides it; see the gateway's
 * `revocationCheck`.
 */
export const REVOCATION_CHECK = Symbol('REVOCATION_CHECK');
export interface RevocationCheck {
  /**
   * Whether tokens of `version` are still valid for the user: a boolean when that is known
   * without I/O, else a promise. Rejects (503) when it cannot say, unless `tolerateOutage`
   * lets it answer from what it knew before.
   */
  isCurrent(userId: string, version: number, tolerateOutage: boolean): boolean | Promise<boolean>;
}

/** Verified tokens remembered at most; the least recently used goes first. */
export const TOKEN_CACHE_SIZE = 10_000;

interface Verified {
  user: AuthUser;
  /** The token's version (claim `ver`), checked against the user's current one on every call. */
  version: number;
  /** When the token expires (ms since the epoch): its `exp`. */
  expiresAt: number;
}

/** The scheme and token of an `Authorization` header, as passport-jwt reads it. */
const BEARER = /^(\S+)\s+(\S+)$/;

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = BEARER.exec(header);
  return match && match[1]!.toLowerCase() === 'bearer' ? match[2] : undefined;
}

/**
 * Verifies bearer tokens (HS256 only, issuer, audience, `iat` and `exp` present, not
 * expired, a known role) for JwtAuthGuard and for routes served outside Nest's guard
 * chain. A client sends the same token for its whole lifetime, so tokens already verified
 * are kept in a bounded LRU (lru-cache) keyed by the token string, each until its own
 * `exp`: a repeated token costs a lookup instead of an HMAC and two JSON parses. The
 * revocation and active-user checks still run on every call (each has its own short
 * memory), so a revoked token or a deleted user's token stops working as soon as they say so.
 */
export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly verified: LRUCache<string, Verified>;

  constructor(
    secret: string,
    private readonly isActive?: ActiveUserCheck,
    private readonly now: () => number = Date.now,
    maxEntries: number = TOKEN_CACHE_SIZE,
    private readonly revocations?: RevocationCheck,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    // Expiry measured on the same clock as `exp` (ttlResolution 0: no cached time), so a token is gone at its exp exactly.
    this.verified = new LRUCache<string, Verified>({ max: maxEntries, perf: { now }, ttlResolution: 0 });
  }

  /** The caller of a token, or null when the token is not valid (now), was revoked, or its user is gone. */
  async verify(token: string, tolerateOutage = false): Promise<AuthUser | null> {
    return this.verifyNow(token, tolerateOutage);
  }

  /**
   * {@link verify}, synchronous when it can be: a remembered (or freshly verified) token
   * whose version and user the checks already know is answered without a promise. With
   * `tolerateOutage`, the checks may answer from what they knew when their store is down.
   */
  verifyNow(token: string, tolerateOutage = false): AuthUser | null | Promise<AuthUser | null> {
    const entry = this.verified.get(token) ?? this.verifySignature(token);
    if (!entry) return null;
    const current = this.revocations ? this.revocations.isCurrent(entry.user.id, entry.version, tolerateOutage) : true;
    if (current === true) return this.active(token, entry.user, tolerateOutage);
    if (current === false) return this.refuse(token);
    return current.then((valid) => (valid ? this.active(token, entry.user, tolerateOutage) : this.refuse(token)));
  }

  /** When a token expires (ms since the epoch), if it is a valid one this verifier remembers. */
  expiresAt(token: string): number | undefined {
    return this.verified.get(token)?.expiresAt;
  }

  /** Tokens currently remembered (for tests and metrics). */
  get size(): number {
    return this.verified.size;
  }

  private active(token: string, user: AuthUser, tolerateOutage: boolean): AuthUser | null | Promise<AuthUser | null> {
    const isActive = this.isActive;
    if (!isActive || isActive.knownActive?.(user.id)) return user;
    return isActive(user.id, tolerateOutage).then((active) => (active ? user : this.refuse(token)));
  }

  private refuse(token: string): null {
    this.verified.delete(token);
    return null;
  }

  private verifySignature(token: string): Verified | null {
    let claims: unknown;
    const now = this.now();
    try {
      claims = jwt.verify(token, this.key, {
        ...JWT_VERIFY_OPTIONS,
        algorithms: [...JWT_VERIFY_OPTIONS.algorithms],
        clockTimestamp: Math.floor(now / 1000),
      });
    } catch {
      return null;
    }
    // jsonwebtoken takes a token without exp for one that never expires: refused here.
    if (!hasLifetime(claims)) return null;
    const user = userOfClaims(claims);
    if (!user) return null;
    const entry: Verified = { user, version: versionOfClaims(claims), expiresAt: claims.exp * 1000 };
    // lru-cache drops an entry once more than `ttl` ms have passed; a token is expired from its exp on (ms clocks are whole).
    const ttl = entry.expiresAt - now - 1;
    if (ttl > 0) this.verified.set(token, entry, { ttl });
    return entry;
  }
}

/** `TokenVerifier` with the module's secret and, when the app provides them, its active-user and revocation checks. */
export const tokenVerifierProvider: Provider = {
  provide: TokenVerifier,
  inject: [JWT_SECRET, { token: ACTIVE_USER_CHECK, optional: true }, { token: REVOCATION_CHECK, optional: true }],
  useFactory: (secret: string, isActive?: ActiveUserCheck, revocations?: RevocationCheck) => new TokenVerifier(secret, isActive, Date.now, TOKEN_CACHE_SIZE, revocations),
};

/**
 * The caller of a request's bearer token, also set as `request.user` (for the request
 * log and the roles guard) and in the log context; else 401. Synchronous when the
 * verifier can answer without I/O (the usual case), so a hot path allocates no promise.
 * `tolerateOutage`: see {@link ActiveUserCheck}; only for routes where a user deleted
 * just before an outage could do no harm.
 */
export function authenticate(
  tokens: TokenVerifier,
  request: { headers: { authorization?: string }; user?: AuthUser },
  tolerateOutage = false,
): AuthUser | Promise<AuthUser> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new UnauthorizedException();
  const found = tokens.verifyNow(token, tolerateOutage);
  return found instanceof Promise ? found.then((user) => admit(request, user)) : admit(request, found);
}

function admit(request: { user?: AuthUser }, user: AuthUser | null): AuthUser {
  if (!user) throw new UnauthorizedException();
  request.user = user;
  const context = currentContext();
  if (context) context.userId = user.id;
  return user;
}
