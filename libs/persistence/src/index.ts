export * from './data-source-options.js';
export * from './schema-migrations.js';
export * from './persistence.module.js';
