import { createHash, randomBytes } from 'node:crypto';
import { Naming } from '@flotilla/config';
import type { RpcService } from '@flotilla/contracts';
import { broadcastQueuePrefix } from '../rabbit/broadcast-listener.js';
import { consumerDeadLetterQueues, PLATFORM_SERVICES, topologyNames, topologyResources } from '../rabbit/topology.js';

/** What a service does on the broker, beyond what {@link topologyResources} names for it. */
export interface BrokerUse {
  service: (typeof PLATFORM_SERVICES)[number];
  /** The RPC queue it serves (`<serve>.rpc`). */
  serve?: RpcService;
  /** The RPC services it calls. */
  calls: readonly RpcService[];
  /** Admin only: reads (and declares) every service's dead-letter queue and consumes heartbeats. */
  operator?: boolean;
  /** Each instance declares and reads a queue of its own, `<service>.broadcast.<uuid>` (see BroadcastListener). */
  broadcasts?: boolean;
}

/**
 * Every service's use of the broker, as its `RabbitModule.forRoot` and its RPC calls say.
 * A new service or a new call is added here, and the broker's definitions generated again
 * (`node scripts/rabbitmq-definitions.mjs`).
 */
export const BROKER_USE: readonly BrokerUse[] = [
  { service: 'gateway', calls: ['upload', 'validator', 'votes', 'provisioner', 'admin'], broadcasts: true },
  { service: 'upload', serve: 'upload', calls: [] },
  { service: 'validator', serve: 'validator', calls: [] },
  { service: 'vote-consumer', serve: 'votes', calls: [] },
  { service: 'provisioner', serve: 'provisioner', calls: [] },
  { service: 'admin', serve: 'admin', calls: ['upload', 'validator', 'votes', 'provisioner'], operator: true },
];

/** RabbitMQ's name, in permissions, of the default exchange (`''`). */
export const DEFAULT_EXCHANGE = 'amq.default';
/** The pseudo-queue of direct reply-to, consumed by every RPC caller. */
export const REPLY_TO = 'amq.rabbitmq.reply-to';

/** A user's permissions on the vhost: regular expressions over queue and exchange names. */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
}

/** The queues a service owns: declares, binds and consumes. */
export function ownQueues(naming: Naming, use: BrokerUse): string[] {
  const queues = topologyResources(naming, use.service, use.serve).queues;
  if (use.operator) {
    // The operator reads every dead-letter queue, and the validator's event queue's depth
    // for the dashboard: both declared if missing (eventsQueueDepth says why not passively).
    const inspected = [...consumerDeadLetterQueues(naming), topologyNames(naming, 'validator').eventsQueue];
    queues.push(naming.amqp(`${use.service}.heartbeats`), ...inspected.filter((q) => !queues.includes(q)));
  }
  return queues;
}

/**
 * Least privilege from the topology: configure (declare, delete) and read (consume, bind
 * from) only its own queues and the two shared exchanges; write (publish, bind to) its
 * own queues, `flotilla.events` (events, heartbeats), `flotilla.dlx` (dead letters) and
 * the default exchange (RPC requests and replies, retries). RabbitMQ checks a publish on
 * its exchange only, so the default exchange lets a publisher reach any queue by name:
 * what refuses an RPC a service has no business sending is the owner's check of the
 * signed internal caller, not the broker.
 */
export function brokerPermissions(naming: Naming, use: BrokerUse): BrokerPermissions {
  const names = topologyNames(naming, use.service, use.serve);
  const queues = ownQueues(naming, use);
  const exchanges = [names.eventsExchange, names.deadLetterExchange];
  // A broadcast queue's name ends in a uuid the instance picks at start.
  const patterns = use.broadcasts ? [`${escapeRegExp(broadcastQueuePrefix(naming, use.service))}[0-9a-f-]{36}`] : [];
  return {
    configure: anyOf([...queues, ...exchanges], patterns),
    write: anyOf([...queues, ...exchanges, DEFAULT_EXCHANGE], patterns),
    read: anyOf([...queues, ...exchanges, REPLY_TO], patterns),
  };
}

/** The broker user of a service (also the name in `AMQP_URL_<SERVICE>`). */
export function brokerUser(naming: Naming, service: string): string {
  return naming.amqp(`flotilla-${service}`);
}

/** The secret key holding a service's AMQP_URL, e.g. `AMQP_URL_VOTE_CONSUMER`. */
export function amqpUrlKey(service: string): string {
  return `AMQP_URL_${service.toUpperCase().replace(/-/g, '_')}`;
}

/** The secret key holding a service's broker password, e.g. `RABBITMQ_PASSWORD_VOTE_CONSUMER`. */
export function brokerPasswordKey(service: string): string {
  return `RABBITMQ_PASSWORD_${service.toUpperCase().replace(/-/g, '_')}`;
}

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)). */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()]).toString('base64');
}

export interface DefinitionsOptions {
  namespace?: string;
  vhost?: string;
  /** Each service's password, by service name; every service of {@link BROKER_USE} needs one. */
  passwords: Readonly<Record<string, string>>;
  /** A person's user (`flotilla`, administrator, every permission) for the management UI; none when absent. */
  operatorPassword?: string;
}

/** The operator's user name: for people (management UI, rabbitmqctl), never for a service. */
export const OPERATOR_USER = 'flotilla';

/** A RabbitMQ definitions document (for `load_definitions` or `rabbitmqctl import_definitions`): a user per service. */
export function rabbitmqDefinitions(options: DefinitionsOptions): Record<string, unknown> {
  const naming = new Naming(options.namespace ?? '');
  const vhost = options.vhost ?? '/';
  const users = BROKER_USE.map((use) => {
    const password = options.passwords[use.service];
    if (!password) throw new Error(`no broker password for ${use.service} (${brokerPasswordKey(use.service)})`);
    return { name: brokerUser(naming, use.service), password_hash: rabbitPasswordHash(password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] as string[] };
  });
  const permissions = BROKER_USE.map((use) => ({ user: brokerUser(naming, use.service), vhost, ...brokerPermissions(naming, use) }));
  if (options.operatorPassword) {
    users.push({ name: OPERATOR_USER, password_hash: rabbitPasswordHash(options.operatorPassword), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] });
    permissions.push({ user: OPERATOR_USER, vhost, configure: '.*', write: '.*', read: '.*' });
  }
  return { users, vhosts: [{ name: vhost }], permissions };
}

/** A regular expression matching exactly `names`, or any of the (already regular) `patterns`. */
function anyOf(names: readonly string[], patterns: readonly string[] = []): string {
  return `^(${[...[...new Set(names)].map(escapeRegExp), ...patterns].join('|')})$`;
}

function escapeRegExp(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
