export * from './rabbit/index.js';
export * from './redis/redis.constants.js';
export * from './redis/redis-errors.js';
export * from './redis/redis-client.js';
export * from './redis/redis.module.js';
export * from './streams/stream-entry.js';
export * from './streams/stream-producer.js';
export * from './streams/stream-consumer.js';
