import { Inject, Injectable, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { JWT_VERIFY_OPTIONS, userOfClaims, type AccessTokenClaims, type AuthUser } from './auth.types.js';

export const JWT_SECRET = Symbol('JWT_SECRET');

/**
 * Optional check that a token's user still exists and is active; a service that owns
 * users provides it so tokens of deleted users stop working.
 */
export const ACTIVE_USER_CHECK = Symbol('ACTIVE_USER_CHECK');
export type ActiveUserCheck = ((userId: string) => Promise<boolean>) & {
  /** Optional: true when the check would answer true right now without any I/O (lets a caller skip the await). */
  knownActive?: (userId: string) => boolean;
};

/** Verifies bearer tokens: HS256 only, issuer, audience and expiry enforced. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(JWT_SECRET) secret: string,
    @Optional() @Inject(ACTIVE_USER_CHECK) private readonly isActive?: ActiveUserCheck,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it
      // as a public key on every verification, which cost ~1 ms of CPU per request.
      secretOrKey: createSecretKey(Buffer.from(secret, 'utf8')) as unknown as string,
      ...JWT_VERIFY_OPTIONS,
      algorithms: [...JWT_VERIFY_OPTIONS.algorithms],
    });
  }

  /** Returning false makes passport answer 401. */
  async validate(claims: AccessTokenClaims): Promise<AuthUser | false> {
    const user = userOfClaims(claims);
    if (!user || (this.isActive && !(await this.isActive(user.id)))) return false;
    return user;
  }
}
