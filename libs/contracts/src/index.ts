export * from './rpc.js';
export * from './events.js';
export * from './votes.js';
export * from './requests.js';
export * from './streams.js';
export * from './rpc-error.js';
export * from './poll-rules.js';
export * from './datasets.js';
