export * from './rabbit/index.js';
