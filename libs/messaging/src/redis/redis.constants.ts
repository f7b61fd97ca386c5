/** Injection token of the service's shared ioredis client (see {@link RedisModule}). */
export const REDIS = Symbol('REDIS');
