export * from './context.js';
export * from './logger.js';
export * from './metrics.js';
export * from './metrics.controller.js';
export * from './health.js';
export * from './problem.js';
export * from './http-app.js';
export * from './observability.module.js';
