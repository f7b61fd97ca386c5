import { ValidateBy, type ValidationArguments } from 'class-validator';

/**
 * Passwords of the development set-ups (docker-compose.full.yml, the chart's values-dev.yaml,
 * the broker definitions' `flotilla-dev-rabbitmq-<service>` users): public, so every password
 * with their `flotilla-dev-` prefix counts as one.
 */
const isDevPassword = (password: string): boolean => password.startsWith('flotilla-dev-');

function userinfo(url: string): { user: string; password: string } | undefined {
  try {
    const parsed = new URL(url);
    return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a broker URL logs in with RabbitMQ's well-known account: `guest` (whatever its
 * password), no user at all (amqplib then sends guest:guest), or a development password.
 */
export function hasDefaultBrokerCredentials(url: string): boolean {
  const info = userinfo(url);
  return info !== undefined && (info.user === '' || info.user === 'guest' || isDevPassword(info.password));
}

/**
 * Whether a database URL logs in with the default credentials: the `postgres` superuser
 * without a password (the default `DATABASE_URL`) or with `postgres`, or a development password.
 */
export function hasDefaultDatabaseCredentials(url: string): boolean {
  const info = userinfo(url);
  return info !== undefined && ((info.user === 'postgres' && (info.password === '' || info.password === 'postgres')) || isDevPassword(info.password));
}

/** In production, refuses a URL whose credentials `isDefault` says are the well-known ones. */
export function NoDefaultCredentialsInProduction(isDefault: (url: string) => boolean): PropertyDecorator {
  return ValidateBy({
    name: 'noDefaultCredentialsInProduction',
    validator: {
      validate: (value, args) => (args?.object as { NODE_ENV?: string }).NODE_ENV !== 'production' || typeof value !== 'string' || !isDefault(value),
      defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'the URL'} must carry non-default credentials when NODE_ENV=production`,
    },
  });
}
