import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync, type ValidationError } from 'class-validator';
import { hasDefaultBrokerCredentials, hasDefaultDatabaseCredentials, NoDefaultCredentialsInProduction } from './default-credentials.js';
import { redactUrlsIn } from './redact-url.js';

/** Default of `REDIS_COMMAND_TIMEOUT_MS`, also for clients made without an environment. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 3000;

/** Development default of `INTERNAL_TOKEN_SECRET`; production refuses it. */
export const DEV_INTERNAL_TOKEN_SECRET = 'flotilla-dev-internal-token-secret-change-me';

/** Thrown at boot when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join('; ')}`);
  }
}

/** Parses `true/false/1/0/yes/no`; anything else stays a string so validation names it. */
export function EnvBoolean(): PropertyDecorator {
  return Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    const v = String(value).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no', ''].includes(v)) return false;
    return value;
  });
}

/**
 * Variables every service reads. Each property has its default as initializer, so a
 * service runs locally with no configuration at all; subclasses add their own.
 */
export class BaseEnv {
  /** `production` turns on HSTS and refuses default secrets. */
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  @NoDefaultCredentialsInProduction(hasDefaultDatabaseCredentials)
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString()
  @Matches(/^amqps?:\/\//, { message: 'AMQP_URL must be an amqp:// URL' })
  @NoDefaultCredentialsInProduction(hasDefaultBrokerCredentials)
  AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

  /**
   * Prefix for schemas, queues, exchanges and Redis keys, so several installations
   * (or test runs) share one set of servers without touching each other.
   */
  @Matches(/^([a-z][a-z0-9]{0,23})?$/, { message: 'NAMESPACE must be empty or [a-z][a-z0-9]{0,23}' })
  NAMESPACE = '';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsInt()
  @Min(1)
  @Max(600_000)
  RPC_TIMEOUT_MS = 5000;

  /** Time a stopping service gives in-flight work before it closes connections. */
  @IsInt()
  @Min(0)
  @Max(300_000)
  SHUTDOWN_GRACE_MS = 10_000;

  /**
   * Longest a Redis command may wait for its reply before it fails (a hung server
   * becomes an error, not a wait for ever). Blocking reads wait their own block time
   * on top; BullMQ's connections are not bound by it.
   */
  @IsInt()
  @Min(100)
  @Max(600_000)
  REDIS_COMMAND_TIMEOUT_MS = DEFAULT_REDIS_COMMAND_TIMEOUT_MS;

  /** Postgres cancels a statement running longer (`statement_timeout`); 0: no limit. */
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 30_000;

  /**
   * Postgres ends a session left idle inside a transaction this long
   * (`idle_in_transaction_session_timeout`), releasing its locks; 0: no limit.
   */
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

  /** `statement_timeout` of migrations, which may rewrite large tables; 0: no limit. */
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS = 600_000;

  @IsString()
  SERVICE_VERSION = '0.1.0';

  /**
   * Key of the internal caller tokens on RPCs and of the signatures on events; only
   * the services hold it (never the browser, never the broker). At least 32 characters;
   * production refuses the development default.
   */
  @IsString()
  @MinLength(32)
  @ValidateBy({
    name: 'notDevDefault',
    validator: {
      validate: (value, args) => (args?.object as BaseEnv).NODE_ENV !== 'production' || value !== DEV_INTERNAL_TOKEN_SECRET,
      defaultMessage: () => 'INTERNAL_TOKEN_SECRET must be set to a non-default value when NODE_ENV=production',
    },
  })
  INTERNAL_TOKEN_SECRET = DEV_INTERNAL_TOKEN_SECRET;

  /** Run the service's database migrations, then exit (the deployment's migration job). */
  @EnvBoolean()
  @IsBoolean()
  MIGRATE_ONLY = false;
}

function describe(errors: ValidationError[], source: Record<string, unknown>): string[] {
  return errors.flatMap((e) => {
    const got = source[e.property];
    // A URL's credentials never appear, whatever the variable is called.
    const shown = got === undefined ? '' : ` (got ${redactUrlsIn(JSON.stringify(isSecretName(e.property) ? '***' : got))})`;
    return Object.values(e.constraints ?? { invalid: `${e.property} is invalid` }).map((m) => `${m}${shown}`);
  });
}

/** Names whose values never appear in messages or logs. */
export function isSecretName(name: string): boolean {
  return /SECRET|PASSWORD|TOKEN|KEY/i.test(name);
}

/**
 * Reads the variables `EnvClass` declares from `source`, applies defaults and
 * validates them. Throws {@link ConfigError} naming each bad variable.
 */
export function loadEnv<T extends BaseEnv>(
  EnvClass: new () => T,
  source: Record<string, string | undefined> = process.env,
): T {
  const defaults = new EnvClass() as unknown as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = source[key];
    if (value === undefined) continue;
    // The default's type says how to read the string; a non-number stays a string so
    // validation can name it.
    const kind = typeof defaults[key];
    if (kind === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) picked[key] = Number(value);
    else if (kind === 'number' && value === '') continue;
    else picked[key] = value;
  }
  const env = plainToInstance(EnvClass, picked);
  const errors = validateSync(env as object, { forbidUnknownValues: false });
  if (errors.length > 0) throw new ConfigError(describe(errors, source));
  return env;
}
