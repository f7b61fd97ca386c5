import { UnauthorizedException, type Provider } from '@nestjs/common';
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { currentContext } from '@flotilla/observability';
import { JWT_VERIFY_OPTIONS, userOfClaims, type AuthUser } from './auth.types.js';

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

/** Verified tokens remembered at most; the least recently used goes first. */
export const TOKEN_CACHE_SIZE = 10_000;

interface Verified {
  user: AuthUser;
  /** When the token expires (ms since the epoch); never later than its `exp`. */
  expiresAt: number;
  /** When it last moved to the recent end of the map. */
  touchedAt: number;
}

/** A hit moves its token to the recent end at most this often: re-inserting costs two hash lookups of a long key. */
const TOUCH_EVERY_MS = 1000;

/** The scheme and token of an `Authorization` header, as passport-jwt reads it. */
const BEARER = /^(\S+)\s+(\S+)$/;

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = BEARER.exec(header);
  return match && match[1]!.toLowerCase() === 'bearer' ? match[2] : undefined;
}

/**
 * Verifies bearer tokens (HS256 only, issuer, audience, expiry, a known role) for
 * JwtAuthGuard and for routes served outside Nest's guard chain. A client
 * sends the same token for its whole lifetime, so tokens already verified are kept in a
 * bounded LRU map keyed by the token string (recency kept to the second), each until its own `exp`: a repeated token
 * costs a map lookup instead of an HMAC and two JSON parses. The active-user check still
 * runs on every call (it has its own short memory), so a deleted user's cached tokens
 * stop working as soon as that check says so.
 */
export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly verified = new Map<string, Verified>();

  constructor(
    secret: string,
    private readonly isActive?: ActiveUserCheck,
    private readonly now: () => number = Date.now,
    private readonly maxEntries: number = TOKEN_CACHE_SIZE,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** The caller of a token, or null when the token is not valid (now) or its user is gone. */
  async verify(token: string, tolerateOutage = false): Promise<AuthUser | null> {
    return this.verifyNow(token, tolerateOutage);
  }

  /**
   * {@link verify}, synchronous when it can be: a remembered (or freshly verified) token
   * whose user the active-user check already knows is answered without a promise. With
   * `tolerateOutage`, the check may answer from what it knew when its database is down.
   */
  verifyNow(token: string, tolerateOutage = false): AuthUser | null | Promise<AuthUser | null> {
    const user = this.cached(token) ?? this.verifySignature(token);
    if (!user) return null;
    const isActive = this.isActive;
    if (!isActive || isActive.knownActive?.(user.id)) return user;
    return isActive(user.id, tolerateOutage).then((active) => {
      if (active) return user;
      this.verified.delete(token);
      return null;
    });
  }

  /** Tokens currently remembered (for tests and metrics). */
  get size(): number {
    return this.verified.size;
  }

  private cached(token: string): AuthUser | undefined {
    const entry = this.verified.get(token);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.verified.delete(token);
      return undefined;
    }
    if (now - entry.touchedAt >= TOUCH_EVERY_MS) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.verified.delete(token);
      this.verified.set(token, entry);
      entry.touchedAt = now;
    }
    return entry.user;
  }

  private verifySignature(token: string): AuthUser | null {
    let claims: { exp?: number };
    try {
      claims = jwt.verify(token, this.key, {
        ...JWT_VERIFY_OPTIONS,
        algorithms: [...JWT_VERIFY_OPTIONS.algorithms],
        clockTimestamp: Math.floor(this.now() / 1000),
      }) as { exp?: number };
    } catch {
      return null;
    }
    const user = userOfClaims(claims);
    if (!user) return null;
    // A token without `exp` never expires for jsonwebtoken; it is still only remembered for an hour.
    const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : this.now() + 3_600_000;
    if (this.verified.size >= this.maxEntries) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { user, expiresAt, touchedAt: this.now() });
    return user;
  }
}

/** `TokenVerifier` with the module's secret and, when the app provides one, its active-user check. */
export const tokenVerifierProvider: Provider = {
  provide: TokenVerifier,
  inject: [JWT_SECRET, { token: ACTIVE_USER_CHECK, optional: true }],
  useFactory: (secret: string, isActive?: ActiveUserCheck) => new TokenVerifier(secret, isActive),
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
