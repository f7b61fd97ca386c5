import { BaseEnv } from '@flotilla/config';
import { IsEmail, IsInt, IsString, Matches, Max, Min, MinLength, Validate, type ValidationArguments, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';

export const DEV_JWT_SECRET = 'flotilla-dev-jwt-secret-change-me-in-production';
export const DEV_ADMIN_PASSWORD = 'flotilla-admin-dev';

/** In production the well-known development secrets are refused. */
@ValidatorConstraint({ name: 'notDevDefault' })
class NotDevDefaultInProduction implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const env = args.object as GatewayEnv;
    return env.NODE_ENV !== 'production' || (value !== DEV_JWT_SECRET && value !== DEV_ADMIN_PASSWORD);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be set to a non-default value when NODE_ENV=production`;
  }
}

export class GatewayEnv extends BaseEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8080;

  /** HMAC key of access tokens; at least 32 characters. */
  @IsString()
  @MinLength(32)
  @Validate(NotDevDefaultInProduction)
  JWT_SECRET = DEV_JWT_SECRET;

  /**
   * Proxies whose `X-Forwarded-For` names the client (the ingress controller): `true`,
   * or comma-separated addresses and CIDRs such as `10.0.0.0/8`. Empty: no proxy is
   * trusted, and the client is the peer of the connection.
   */
  @IsString()
  @Matches(/^(true|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)?$/, { message: 'TRUST_PROXY must be empty, true, or comma-separated addresses and CIDRs' })
  TRUST_PROXY = '';

  /** The admin service's HTTP address: the web console at `/admin/` is forwarded there. */
  @IsString()
  @Matches(/^https?:\/\/[^\s/]+$/, { message: 'ADMIN_URL must be an http(s):// origin such as http://127.0.0.1:8086' })
  ADMIN_URL = 'http://127.0.0.1:8086';

  @IsInt()
  @Min(30)
  @Max(86_400)
  JWT_ACCESS_TTL_SECONDS = 900;

  @IsInt()
  @Min(60)
  @Max(90 * 86_400)
  JWT_REFRESH_TTL_SECONDS = 14 * 86_400;

  /** The first administrator, created at start when no user has this email. */
  @IsEmail({ require_tld: false })
  ADMIN_EMAIL = 'admin@flotilla.local';

  @IsString()
  @MinLength(12)
  @Validate(NotDevDefaultInProduction)
  ADMIN_PASSWORD = DEV_ADMIN_PASSWORD;

  /** Comma-separated origins allowed by CORS; empty allows none. */
  @IsString()
  CORS_ORIGINS = '';

  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /**
   * How long `upload/start` and `upload/complete` wait for the upload service: their work
   * grows with the dataset's files (a URL signed per file; the objects listed), and under
   * many teams at once they queue. Repeating a complete is safe.
   */
  @IsInt()
  @Min(1000)
  @Max(600_000)
  UPLOAD_RPC_TIMEOUT_MS = 30_000;

  /**
   * How long a token's user, once found in the database, is taken to exist without asking
   * again: the longest a deleted user's tokens keep working on this gateway.
   */
  @IsInt()
  @Min(100)
  @Max(300_000)
  USER_CHECK_FRESH_MS = 30_000;

  /** Window of the per-IP and per-user request limits. */
  @IsInt()
  @Min(1)
  @Max(3600)
  RATE_LIMIT_WINDOW_SECONDS = 60;

  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_IP = 6000;

  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_USER = 1200;

  /** Failed logins allowed per account, and per IP, within LOGIN_THROTTLE_WINDOW_SECONDS. */
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_ACCOUNT = 10;

  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_IP = 50;

  @IsInt()
  @Min(1)
  @Max(86_400)
  LOGIN_THROTTLE_WINDOW_SECONDS = 900;

  /**
   * Length the `requests` stream is kept near (an approximate MAXLEN), so an admin that is
   * down cannot fill Redis: about 300 bytes an entry, some 150 MB at the default. Entries
   * cut before the admin read them are counted in `request_log_stream_cut_total`; 0 turns
   * the cap off.
   */
  @IsInt()
  @Min(0)
  REQUEST_LOG_STREAM_MAXLEN = 500_000;

}
