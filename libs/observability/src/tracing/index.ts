export * from './propagation.js';
export { TRACING_IMPORT, tracingSettings, type TracingSettings } from './settings.js';
