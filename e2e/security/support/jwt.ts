import { createHmac, randomUUID } from 'node:crypto';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Signs a token by hand, to make the tokens a real JWT library would refuse to make. */
export function forge(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac(hash, secret).update(unsigned).digest('base64url')}`;
}

/** Decodes a token's claims without checking anything. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/**
 * Tokens every authenticated route must refuse with 401, by name. `secret` is the
 * gateway's real JWT secret (the tests know it); `valid` a real token to tamper with.
 */
export function hostileTokens(secret: string, valid: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const real = claimsOf(valid);
  const admin = { ...real, role: 'admin', teamId: null, iat: now, exp: now + 600 };
  const [header, , signature] = valid.split('.');
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(admin)}.`,
    'alg none, upper case': `${b64({ alg: 'NONE', typ: 'JWT' })}.${b64(admin)}.`,
    'a wrong signature': forge({ alg: 'HS256', typ: 'JWT' }, admin, 'another-secret-of-sufficient-length-0000'),
    'claims changed under the real signature (member made admin)': `${header}.${b64(admin)}.${signature}`,
    'HS512 with the real secret (algorithm not allowed)': forge({ alg: 'HS512', typ: 'JWT' }, admin, secret, 'sha512'),
    'expired an hour ago': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, iat: now - 7200, exp: now - 3600 }, secret),
    'another issuer': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, iss: 'someone-else', iat: now, exp: now + 600 }, secret),
    'another audience': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, aud: 'another-api', iat: now, exp: now + 600 }, secret),
    'a user that does not exist (sub unknown, correctly signed)': forge({ alg: 'HS256', typ: 'JWT' }, { ...admin, sub: randomUUID(), email: 'ghost@security.test' }, secret),
    'a role that does not exist': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, role: 'root', iat: now, exp: now + 600 }, secret),
    'garbage': 'not.a.token',
    'empty': '',
  };
}
