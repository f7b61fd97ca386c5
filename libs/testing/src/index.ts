export * from './namespace.js';
export * from './service-process.js';
export * from './private-redis.js';
