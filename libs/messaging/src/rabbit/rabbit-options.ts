import type { RpcService } from '@flotilla/contracts';

/** What a service tells {@link RabbitModule.forRoot} about itself. */
export interface RabbitModuleOptions {
  /** The service's name: `source` of the events it publishes and prefix of its event queue `<service>.events`. */
  service: string;
  /** The RPC queue this service answers (`<serve>.rpc`); without it no {@link RpcServer} is provided. */
  serve?: RpcService;
  /** Unacknowledged messages each consumer (RPC and events) holds at once. Default 32. */
  prefetch?: number;
  /** Handler attempts per event (the first delivery included) before it is dead-lettered. Default 5. */
  maxAttempts?: number;
  /**
   * Delay before a failed event is delivered again. It is the retry queue's `x-message-ttl`,
   * so changing it for an existing queue needs that queue deleted first (RabbitMQ refuses
   * to redeclare a queue with other arguments). Default 5000.
   */
  retryDelayMs?: number;
  /** How long start-up waits for the broker before going on without it (readiness then says so). Default 10000. */
  connectTimeoutMs?: number;
  /** An RPC handler still running after this long is logged (warn), once, with its correlation id. Default 10000. */
  slowHandlerWarnMs?: number;
  /**
   * How long an RPC request without a caller's deadline (header `x-deadline`, from an older
   * publisher) may run before it is abandoned; counted from its delivery. Default 30000.
   */
  defaultDeadlineMs?: number;
}

/** {@link RabbitModuleOptions} with every default applied. */
export type ResolvedRabbitOptions = Required<Omit<RabbitModuleOptions, 'serve'>> & Pick<RabbitModuleOptions, 'serve'>;

/** Injection token of the {@link ResolvedRabbitOptions}. */
export const RABBIT_OPTIONS = Symbol('RABBIT_OPTIONS');

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`RabbitModule: ${name} must be a positive integer (got ${value})`);
  return value;
}

/** Applies defaults and rejects nonsense at boot rather than at the first message. */
export function resolveRabbitOptions(options: RabbitModuleOptions): ResolvedRabbitOptions {
  if (!/^[a-z][a-z0-9-]*$/.test(options.service)) {
    throw new Error(`RabbitModule: service must be a lower-case name like "gateway" (got "${options.service}")`);
  }
  return {
    service: options.service,
    serve: options.serve,
    prefetch: positiveInt('prefetch', options.prefetch ?? 32),
    maxAttempts: positiveInt('maxAttempts', options.maxAttempts ?? 5),
    retryDelayMs: positiveInt('retryDelayMs', options.retryDelayMs ?? 5000),
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
    slowHandlerWarnMs: positiveInt('slowHandlerWarnMs', options.slowHandlerWarnMs ?? 10_000),
    defaultDeadlineMs: positiveInt('defaultDeadlineMs', options.defaultDeadlineMs ?? 30_000),
  };
}
