/** Roles a user can hold; admin routes require `admin`. */
export type Role = 'admin' | 'member';

/** The authenticated caller, taken from a verified access token. */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
  teamId: string | null;
}

/** Claims inside an access token. */
export interface AccessTokenClaims {
  sub: string;
  email: string;
  role: Role;
  teamId: string | null;
}

export const JWT_ISSUER = 'flotilla';
export const JWT_AUDIENCE = 'flotilla-api';
/** The only algorithm tokens may use; `none` and asymmetric confusions are refused. */
export const JWT_ALGORITHM = 'HS256';

/** What a token must be to be accepted, for every verifier of it: HS256, our issuer, our audience, not expired. */
export const JWT_VERIFY_OPTIONS = {
  algorithms: [JWT_ALGORITHM],
  issuer: JWT_ISSUER,
  audience: JWT_AUDIENCE,
  ignoreExpiration: false,
} as const;

/** The caller a verified token's claims name, or null when they name none (no subject, or a role we do not have). */
export function userOfClaims(claims: unknown): AuthUser | null {
  if (typeof claims !== 'object' || claims === null) return null;
  const { sub, email, role, teamId } = claims as Partial<AccessTokenClaims>;
  if (typeof sub !== 'string' || (role !== 'admin' && role !== 'member')) return null;
  return { id: sub, email: email as string, role, teamId: teamId ?? null };
}
