export * from './env.js';
export * from './naming.js';
export * from './config.module.js';
export * from './redact-url.js';
export * from './default-credentials.js';
