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
