export * from './namespace.js';
export * from './service-process.js';
export * from './private-redis.js';
export * from './private-postgres.js';
export * from './private-rabbitmq.js';
export * from './postgres-gate.js';
export * from './forged-messages.js';
export * from './notification-receivers.js';
