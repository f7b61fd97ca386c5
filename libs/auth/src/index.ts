export * from './auth.types.js';
export * from './decorators.js';
export * from './guards.js';
export * from './auth.module.js';
export * from './token-verifier.js';
