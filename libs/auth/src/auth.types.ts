/** Roles a user can hold; admin routes require `admin`. */
export type Role = 'admin' | 'member';

/** The authenticated caller, taken from a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  teamId: string | null;
}

/** Claims inside an access token (besides `iat`, `exp`, `iss` and `aud`, which every token must carry). */
export interface AccessTokenClaims {
  sub: string;
  email: string;
  role: Role;
  teamId: string | null;
  /**
   * The user's token version when the token was issued. Logout, refresh-token reuse and
   * every change to the user raise the version, and tokens of an older one are refused
   * (see `RevocationCheck`). A counter rather than a time: `iat` has whole seconds, and
   * a token issued in the same second as a revocation must not be taken for an older one.
   * Missing in tokens issued before versions existed: version 0.
   */
  ver: number;
}

export const JWT_ISSUER = 'flotilla';
export const JWT_AUDIENCE = 'flotilla-api';
/** The only algorithm tokens may use; `none` and asymmetric confusions are refused. */
export const JWT_ALGORITHM = 'HS256';

/**
 * What a token must be to be accepted, for every verifier of it: HS256, our issuer, our
 * audience, not expired. jsonwebtoken accepts a token without `exp` as never expiring;
 * {@link hasLifetime} refuses those.
 */
export const JWT_VERIFY_OPTIONS = {
  algorithms: [JWT_ALGORITHM],
  issuer: JWT_ISSUER,
  audience: JWT_AUDIENCE,
  ignoreExpiration: false,
} as const;

/** Whether verified claims carry the numeric `iat` and `exp` every access token must have (a token without `exp` would never expire). */
export function hasLifetime(claims: unknown): claims is { iat: number; exp: number } {
  if (typeof claims !== 'object' || claims === null) return false;
  const { iat, exp } = claims as { iat?: unknown; exp?: unknown };
  return typeof iat === 'number' && Number.isFinite(iat) && typeof exp === 'number' && Number.isFinite(exp);
}

/** The token version of verified claims (0 when the token predates versions, or carries something else). */
export function versionOfClaims(claims: unknown): number {
  const ver = (claims as { ver?: unknown } | null)?.ver;
  return typeof ver === 'number' && Number.isSafeInteger(ver) && ver >= 0 ? ver : 0;
}

/** The caller a verified token's claims name, or null when they name none (no subject, or a role we do not have). */
export function userOfClaims(claims: unknown): AuthUser | null {
  if (typeof claims !== 'object' || claims === null) return null;
  const { sub, email, role, teamId } = claims as Partial<AccessTokenClaims>;
  if (typeof sub !== 'string' || (role !== 'admin' && role !== 'member')) return null;
  return { id: sub, email: email as string, role, teamId: teamId ?? null };
}
