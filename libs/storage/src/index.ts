export * from './storage.env.js';
export * from './object-storage.js';
export * from './storage.module.js';
export * from './embedded-s3.js';
