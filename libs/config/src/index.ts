export * from './env.js';
export * from './naming.js';
export * from './config.module.js';
